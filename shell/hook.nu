# strata hook for nushell. Install with one line in config.nu (`$nu.config-path`):
#   mkdir ($nu.user-autoload-dirs | first); strata hook nu | save -f ($nu.user-autoload-dirs | first | path join strata.nu)
# nushell loads that file right after config.nu, each time as the strata of that moment wrote it.
#
# nushell runs no code it did not parse at start-up, so `strata export nu` prints a JSON
# document, which this hook applies with builtins only: `hide-env`, `load-env`, and for PATH
# (a list in nushell), any other variable that is a list, or one with an ENV_CONVERSIONS entry,
# the value turned into the list nushell keeps. Before each prompt it decides with builtins
# only whether anything can have changed since the last export: the same $env.PWD,
# STRATA_CONTEXT and STRATA_SESSION, no watched path newer than this shell's stamp file
# (`ls`, which strata dates a little in the past), no new file where one would count, and no
# session value due to expire. Only then does it skip running strata. The user's
# $env.LAST_EXIT_CODE is kept. Its bookkeeping is the record $env.__strata, which nushell
# never passes on to a command (only strings are).

$env.__strata = {
    bin: @STRATA_BIN@
    stamp: (@STAMP_DIR@ | path join ($nu.pid | into string))
    fresh: null
}
if ($env.STRATA_SESSION? | default '' | is-empty) {
    $env.STRATA_SESSION = (random binary 4 | encode hex | str downcase)
}

# A path's modification time, following symlinks; null when it has none.
def __strata_mtime [path: string] {
    try { ls -D ($path | path expand) | get 0.modified } catch { null }
}

# True when strata need not run: the test the last export sent (`fresh`), or false.
def __strata_fresh [] {
    let f = $env.__strata.fresh
    if $f == null { return false }
    if $env.PWD != $f.cwd { return false }
    if ($env.STRATA_CONTEXT? | default '') != $f.context { return false }
    if ($env.STRATA_SESSION? | default '') != $f.session { return false }
    if $f.deadline != null and (date now | format date '%s' | into int) >= $f.deadline {
        return false
    }
    let stamp = (__strata_mtime $env.__strata.stamp)
    if $stamp == null { return false }
    for p in $f.newer {
        let m = (__strata_mtime $p)
        if $m != null and $m > $stamp { return false }
    }
    for p in $f.absent {
        if ($p | path exists) { return false }
    }
    true
}

# Apply what `strata export nu` printed.
def --env __strata_apply [doc: record] {
    for name in $doc.unset {
        hide-env -i $name
    }
    for kv in ($doc.set | transpose name value) {
        let conv = ($env.ENV_CONVERSIONS? | default {} | get -o $kv.name | get -o from_string)
        let now = ($env | get -o $kv.name | describe)
        let value = if $kv.name == 'PATH' or ($now | str starts-with 'list') {
            $kv.value | split row (char esep)
        } else if $conv != null {
            do $conv $kv.value
        } else {
            $kv.value
        }
        load-env {($kv.name): $value}
    }
    if 'fresh' in $doc {
        $env.__strata.fresh = $doc.fresh
    }
}

# Before each prompt: ask strata unless nothing can have changed.
def --env __strata_hook [] {
    let status = $env.LAST_EXIT_CODE?
    if not (try { __strata_fresh } catch { false }) {
        try {
            let out = (^$env.__strata.bin export nu --hook --stamp $env.__strata.stamp)
            if ($out | str trim | is-not-empty) {
                __strata_apply ($out | from json)
            }
        } catch {|e|
            print -e $"strata: the nushell hook failed: ($e.msg)"
        }
    }
    if $status != null {
        $env.LAST_EXIT_CODE = $status
    }
}

# Installed once: a second load replaces the hook it installed before.
$env.config.hooks.pre_prompt = (
    $env.config.hooks.pre_prompt? | default []
    | where {|h| try { (view source $h) !~ '__strata_hook' } catch { true } }
    | append {|| __strata_hook }
)
