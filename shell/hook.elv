# strata hook for elvish. Install with, in ~/.config/elvish/rc.elv:
#   eval (strata hook elvish | slurp)
#
# Runs before each prompt (edit:before-readline) and after every directory change
# (after-chdir). `strata export elvish` prints only set-env, unset-env and `set paths` (PATH,
# entry by entry) with quoted literals, which the hook evaluates. elvish 0.19 has no builtin
# that reads a file's modification time, so the hook cannot tell by itself that nothing
# changed: it runs strata every time, and on a prompt where nothing changed strata answers from
# one stat per watched path and prints nothing. elvish keeps no exit status between commands
# (a failing command is an exception, shown when it happens), so there is none to keep; the
# hook itself never raises one: a failure is one line on stderr.

use str
var __strata-bin = (external @STRATA_BIN@)
if (eq $E:STRATA_SESSION '') {
    set-env STRATA_SESSION @SESSION@
}

fn __strata_hook {
    try {
        eval ($__strata-bin export elvish --hook | slurp)
    } catch e {
        echo 'strata: the elvish hook failed: '(to-string $e[reason]) >&2
    }
}

# Whether a hook in a list is not one of ours (a second load replaces ours: installed once).
fn __strata_foreign {|f|
    try {
        not (str:contains $f[def] '__strata_hook')
    } catch {
        put $true
    }
}

set after-chdir = [(each {|f| if (__strata_foreign $f) { put $f } } $after-chdir) {|_| __strata_hook }]
# The editor exists only in an interactive shell.
try {
    eval 'set edit:before-readline = [(each {|f| if (__strata_foreign $f) { put $f } } $edit:before-readline) {|| __strata_hook }]'
} catch {
}
