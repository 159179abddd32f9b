# strata's completions for xonsh: `strata completions --install xonsh` writes this file into
# ~/.config/xonsh/rc.d, which xonsh reads at start. strata itself answers (clap_complete's
# dynamic completions, in the newline-separated form it gives elvish), so context names,
# session ids and setting keys complete from what exists at that moment. The variables that
# make it answer are set for that one process only.
def __strata_completions():
    import os
    import subprocess

    from xonsh.built_ins import XSH
    from xonsh.completers.completer import add_one_completer
    from xonsh.completers.tools import contextual_command_completer_for

    strata = os.fsdecode(bytes.fromhex(@STRATA_BIN@))

    @contextual_command_completer_for("strata")
    def strata_completer(ctx):
        words = [a.value for a in ctx.args[: ctx.arg_index]] + [ctx.prefix]
        env = XSH.env.detype()
        env["@COMPLETE_VAR@"] = "elvish"
        env["_CLAP_IFS"] = "\n"
        env["_CLAP_COMPLETE_INDEX"] = str(len(words) - 1)
        try:
            out = subprocess.run(
                [strata, "--", *words],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                timeout=10,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return set(os.fsdecode(out).splitlines()) or None

    add_one_completer("strata", strata_completer, "start")


__strata_completions()
del __strata_completions
