# strata hook for xonsh. Install with, in ~/.xonshrc:
#   execx(__import__('subprocess').run(['strata', 'hook', 'xonsh'], stdout=-1, env=__xonsh__.env.detype()).stdout.decode())
# (not execx($(strata hook xonsh)): under load xonsh's $(…) sometimes captures nothing).
#
# Runs before each prompt (on_pre_prompt) and on every directory change (on_chdir).
# `strata export xonsh` prints a JSON document, read here with Python's json module (nothing
# strata prints is evaluated as code); values come hex-encoded and become the `str` xonsh
# passes on as exactly those bytes (os.fsdecode), and a variable xonsh keeps as a list
# (EnvPath: PATH and the other *PATH/*DIRS) gets the list of its entries. Before running strata
# the hook decides with os.stat alone (no process) whether anything can have changed since the
# last export: the same $PWD, STRATA_CONTEXT and STRATA_SESSION, no watched path newer than
# this shell's stamp file (which strata dates a little in the past), no new file where one
# would count, and no session value due to expire. strata runs through Python's subprocess
# module, so the status of the user's last command (_.rtn, {last_return_code}) stays as it was.
# Everything lives in the handler's closure; installing twice replaces the first handler.


def __strata_install():
    import json
    import os
    import subprocess
    import sys
    import time

    from xonsh.built_ins import XSH
    from xonsh.tools import EnvPath

    def decode(hexed):
        return os.fsdecode(bytes.fromhex(hexed))

    strata = decode(@STRATA_BIN@)
    stamp = os.path.join(decode(@STAMP_DIR@), str(os.getpid()))
    env = XSH.env
    if not env.get("STRATA_SESSION"):
        env["STRATA_SESSION"] = @SESSION@
    fresh = [None]
    # Aliases from [aliases]: what strata defined (name -> its alias), and the alias the user
    # had under each name before, given back when strata removes its own unless the user has
    # redefined it in between. Each runs its words as they are: a list alias would have xonsh
    # expand `$NAME` and `~` in them, so it is a function that starts the program.
    aliases = XSH.aliases
    raw = getattr(aliases, "_raw", aliases)
    mine = {}
    was = {}

    def unchanged():
        f = fresh[0]
        if f is None:
            return False
        if env.get("PWD") != f["cwd"]:
            return False
        if env.get("STRATA_CONTEXT", "") != f["context"]:
            return False
        if env.get("STRATA_SESSION", "") != f["session"]:
            return False
        if f["deadline"] is not None and time.time() >= f["deadline"]:
            return False
        try:
            since = os.stat(stamp).st_mtime_ns
        except OSError:
            return False
        for path in f["newer"]:
            try:
                if os.stat(path).st_mtime_ns > since:
                    return False
            except OSError:
                pass
        return not any(os.path.exists(path) for path in f["absent"])

    def program(words):
        def alias(args, stdin=None, stdout=None, stderr=None):
            return subprocess.call(words + list(args), stdin=stdin, stdout=stdout, stderr=stderr)

        return alias

    def apply(doc):
        for name in doc["unset"]:
            env.pop(name, None)
        for name, hexed in doc["set"].items():
            value = decode(hexed)
            if isinstance(env.get(name), EnvPath):
                env[name] = value.split(":") if value else []
            else:
                env[name] = value
        for name in doc.get("unalias", []):
            ours = mine.pop(name, None)
            previous = was.pop(name, None)
            if ours is None or raw.get(name) is not ours:
                continue
            if previous is not None:
                aliases[name] = previous
            else:
                del aliases[name]
        for name, hexed in doc.get("alias", {}).items():
            if name not in mine and name in raw:
                was[name] = raw[name]
            mine[name] = program([decode(w) for w in hexed])
            aliases[name] = mine[name]
        # Events: the functions strata_on_leave, strata_on_context and strata_on_enter you
        # define (in .xonshrc) are called with DIR, CONTEXT, EVENT… (context: NEW, OLD).
        for kind, *args in doc.get("events", []):
            handler = XSH.ctx.get("strata_on_" + kind)
            if callable(handler):
                try:
                    handler(*[decode(a) for a in args])
                except Exception as e:
                    print(f"strata: strata_on_{kind} failed: {e}", file=sys.stderr)
        if "fresh" in doc:
            f = doc["fresh"]
            if f is not None:
                for key in ("cwd", "context", "session"):
                    f[key] = decode(f[key])
                for key in ("newer", "absent"):
                    f[key] = [decode(p) for p in f[key]]
            fresh[0] = f

    def __strata_hook(**_):
        try:
            if unchanged():
                return
            out = subprocess.run(
                [strata, "export", "xonsh", "--hook", "--stamp", stamp],
                stdout=subprocess.PIPE,
                env=env.detype(),
                check=False,
            ).stdout
            if out.strip():
                apply(json.loads(out.decode("ascii")))
        except Exception as e:  # the prompt must survive anything
            print(f"strata: the xonsh hook failed: {e}", file=sys.stderr)

    __strata_hook.stamp = stamp
    for event in (events.on_pre_prompt, events.on_chdir):
        for handler in list(event):
            if getattr(handler, "__name__", "") == "__strata_hook":
                event.discard(handler)
        event(__strata_hook)


__strata_install()
del __strata_install
