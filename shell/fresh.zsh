# zsh: the hook as every `strata export --hook` redefines it (bash's is shell/fresh.bash). @FRESH@
# is a test, with builtins only, that nothing the last export depended on can have changed: the same $PWD,
# STRATA_CONTEXT and STRATA_SESSION, no watched path newer than this shell's stamp, no new file
# where one would count, and no session value due to expire. Lines starting with # are not sent.
# `\builtin` keeps the user's aliases and functions named like builtins out of the way. The
# user's $? is given back, except under `set -e` (errexit would end the shell at a prompt after
# `false && true`); zsh restores $? after its prompt hooks itself.
__strata_hook() {
  \builtin local __strata_status=$?
  @FRESH@ || __strata_export
  [[ $- == *e* ]] || \builtin return "$__strata_status"
}
