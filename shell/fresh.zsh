# zsh: the hook as every `strata export --hook` redefines it (bash's is shell/fresh.bash).
# @FRESH@ is a test, with builtins only, that nothing the last export depended on can have
# changed: the same $PWD, STRATA_CONTEXT and STRATA_SESSION, no watched path newer than this
# shell's stamp, no new file where one would count, and no session value due to expire. Lines
# starting with # are not sent. `\builtin` keeps the user's aliases and functions named like
# builtins out of the way. The hook keeps no $? of its own: zsh gives every precmd and chpwd
# function the user's status and restores it after each. It always returns 0, which keeps
# `set -e` (errexit) from ending the shell at a prompt.
__strata_hook() {
  @FRESH@ || __strata_export || \builtin :
}
