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
    aliases: {}
    was: {}
    writes: 0
}
if ($env.STRATA_SESSION? | default '' | is-empty) {
    $env.STRATA_SESSION = (random binary 4 | encode hex | str downcase)
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
    # `ls` is nushell's only way to a modification time, and each call costs about as much as
    # its work on one path: one call, for the stamp and every watched path. A watched path
    # that is gone makes `ls` fail: then strata is asked (its directory changed anyway).
    let stamp = ($env.__strata.stamp | path expand)
    let rows = try { ls -D $stamp ...($f.newer | path expand) } catch { return false }
    # ls lists its arguments in their order, the stamp first. A column and `math max` cost
    # nushell far less than a `where` or an `any` with a closure.
    if ($rows | length) != ($f.newer | length) + 1 or $rows.0.name != $stamp { return false }
    let times = $rows.modified
    if ($times | skip 1 | math max) > $times.0 { return false }
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
    if 'alias' in $doc or 'unalias' in $doc {
        __strata_aliases $doc
    }
    # Events: the closures you put in $env.STRATA_ON_LEAVE, STRATA_ON_CONTEXT and
    # STRATA_ON_ENTER (in config.nu) are called with DIR CONTEXT EVENT… (context: NEW OLD).
    for ev in ($doc.events? | default []) {
        let f = ($env | get -o $"STRATA_ON_($ev.0 | str upcase)")
        if ($f | describe | str starts-with 'closure') {
            do --env $f ...($ev | skip 1)
        }
    }
}

# Aliases from [aliases]. nushell defines an alias only from code it parses, so this writes that
# code to a file beside the stamp, which the hook after this one sources (and removes) before
# the same prompt. The alias the user had under a name (its expansion, from `scope aliases`) is
# kept and given back when strata removes its own.
def --env __strata_aliases [doc: record] {
    mut code = []
    for name in ($doc.unalias? | default []) {
        if $name in $env.__strata.aliases {
            let was = ($env.__strata.was | get -o $name)
            $code = ($code | append (if $was != null { $"alias ($name) = ($was)" } else { $"hide ($name)" }))
            $env.__strata.aliases = ($env.__strata.aliases | reject $name)
            $env.__strata.was = ($env.__strata.was | reject -o $name)
        }
    }
    for kv in ($doc.alias? | default {} | transpose name code) {
        if not ($kv.name in $env.__strata.aliases) {
            let was = (scope aliases | where name == $kv.name | get -o 0.expansion)
            if $was != null {
                $env.__strata.was = ($env.__strata.was | upsert $kv.name $was)
            }
        }
        $env.__strata.aliases = ($env.__strata.aliases | upsert $kv.name true)
        $code = ($code | append $"alias ($kv.name) = ($kv.code)")
    }
    # nushell reuses what it parsed of a file whose text it has seen before, definitions and
    # all, so a redefinition that repeats an earlier one would be lost: each file is unique.
    $env.__strata.writes = $env.__strata.writes + 1
    $code | prepend $"# ($env.__strata.writes)" | str join "\n" | save -f $"($env.__strata.stamp).nu"
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

# Installed once: a second load replaces the hooks it installed before. The second one is
# code (a string), the only kind of hook whose definitions stay for the prompt: it sources the
# aliases file when there is one, which costs a file test at a prompt where there is none.
let __strata_aliases_file = $"($env.__strata.stamp).nu" | to nuon
$env.config.hooks.pre_prompt = (
    $env.config.hooks.pre_prompt? | default []
    | where {|h|
        if ($h | describe) == 'string' { $h !~ '__strata' } else {
            try { (view source $h) !~ '__strata_hook' } catch { true }
        }
    }
    | append {|| __strata_hook }
    | append $"const __strata_f = if \(($__strata_aliases_file) | path exists\) { ($__strata_aliases_file) } else { null }; source $__strata_f; if $__strata_f != null { rm -f $__strata_f }"
)
