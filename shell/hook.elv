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
# This shell's stamp file: it names the shell that holds the aliases strata defined.
var __strata-stamp = @STAMP_DIR@/(to-string $pid)
if (eq $E:STRATA_SESSION '') {
    set-env STRATA_SESSION @SESSION@
}

# Aliases from [aliases] (strata prints calls to these two only when one changes): a function
# in the REPL's namespace that runs the words as a program, with the user's arguments after them. The REPL's
# namespace is out of a hook's reach but for edit:add-var and edit:del-var, so a function of
# the same name defined in rc.elv is not kept: strata's replaces it until you leave, and then
# the name is gone. Without the editor (a script) there is nothing to define them in.
var __strata-add~ = {|_ _| }
var __strata-del~ = {|_| }
try {
    set __strata-add~ __strata-del~ = (eval 'put $edit:add-var~ $edit:del-var~')
} catch {
}
fn __strata_alias {|name words|
    # The command runs as a program (elvish takes no command name from a value), so an alias
    # that runs the command of its own name runs that command, not itself again.
    var head rest = (external $words[0]) $words[1..]
    __strata-add $name'~' {|@a| $head $@rest $@a }
}
fn __strata_unalias {|name|
    __strata-del $name'~'
}

# What strata's code runs in: the builtins, and these two.
var __strata-ns = (ns [&__strata_alias~=$__strata_alias~ &__strata_unalias~=$__strata_unalias~])

fn __strata_hook {
    try {
        eval &ns=$__strata-ns ($__strata-bin export elvish --hook --stamp $__strata-stamp | slurp)
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
# The editor exists only in an interactive shell. Code given to eval sees the builtins only,
# so the hook is handed to it in the namespace it runs in.
try {
    eval &ns=(ns [&__strata_hook~=$__strata_hook~ &__strata_foreign~=$__strata_foreign~]) 'set edit:before-readline = [(each {|f| if (__strata_foreign $f) { put $f } } $edit:before-readline) {|| __strata_hook }]'
} catch {
}
