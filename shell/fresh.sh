# bash and zsh: the hook as every `strata export --hook` redefines it. @FRESH@ is a test, with
# builtins only, that nothing the last export depended on can have changed: the same $PWD,
# STRATA_CONTEXT and STRATA_SESSION, no watched path newer than this shell's stamp, no new file
# where one would count, and no session value due to expire. Lines starting with # are not sent.
# `\builtin` keeps the user's aliases and functions named like builtins out of the way.
__strata_hook() {
  \builtin local __strata_status=$?
  @FRESH@ || __strata_export
  \builtin return "$__strata_status"
}
