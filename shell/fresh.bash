# bash: the hook as every `strata export --hook` redefines it. @FRESH@ is a test, with builtins
# only, that nothing the last export depended on can have changed: the same $PWD,
# STRATA_CONTEXT and STRATA_SESSION, no watched path newer than this shell's stamp, no new file
# where one would count, and no session value due to expire. Lines starting with # are not sent.
# `\builtin` keeps the user's aliases and functions named like builtins out of the way.
# PROMPT_COMMAND runs it as `__strata_hook $?`: the user's status comes as the argument, which
# costs bash less than a local variable, and is given back for the commands after it in
# PROMPT_COMMAND, except under `set -e` (errexit would end the shell at a prompt after
# `false && true`). An entry from an older hook passes none: 0 then.
__strata_hook() {
  @FRESH@ || __strata_export
  [[ $- == *e* ]] || \builtin return "${1:-0}"
}
