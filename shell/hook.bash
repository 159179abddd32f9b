# strata hook for bash. Install with:  eval "$(strata hook bash)"
#
# On every prompt, __strata_hook decides with builtins only whether anything can have changed
# since the last `strata export`: the same $PWD, STRATA_CONTEXT and STRATA_SESSION, and no
# watched file or directory newer than this shell's stamp file (which strata dates a little in
# the past, so an edit in the same clock tick is never missed). Only then does it skip running
# strata. Each export redefines the hook with that test spelled out. The user's $? is preserved.
# Builtins are called as `\builtin …`, so that the user's aliases and functions named like them
# (eval, local, export…) cannot change what the hook does; it also works under `set -euo
# pipefail`, `nounset`, `failglob` and `nullglob`.

__strata_bin=@STRATA_BIN@
__strata_stamp=@STAMP_DIR@/$$
[[ -n ${STRATA_SESSION-} ]] || \builtin export STRATA_SESSION=@SESSION@

# Runs strata and applies what it prints. That output also redefines __strata_hook (from
# shell/fresh.bash) with the test that lets the next prompts skip strata.
__strata_export() {
  \builtin local __strata_out
  __strata_out=$("$__strata_bin" export bash --hook --stamp "$__strata_stamp")
  \builtin eval "$__strata_out"
}

# Aliases from [aliases] (strata prints calls to these two only when one changes). The user's
# alias of that name is kept and given back when strata removes its own, unless the user has
# redefined it in between: then it stays as the user made it.
\builtin declare -gA __strata_aliases_set __strata_aliases_was
__strata_alias() {
  if [[ -z ${__strata_aliases_set[$1]+x} && -n ${BASH_ALIASES[$1]+x} ]]; then
    __strata_aliases_was[$1]=${BASH_ALIASES[$1]}
  fi
  __strata_aliases_set[$1]=$2
  BASH_ALIASES[$1]=$2
}
__strata_unalias() {
  if [[ -n ${__strata_aliases_set[$1]+x} && ${BASH_ALIASES[$1]-} == "${__strata_aliases_set[$1]}" ]]; then
    if [[ -n ${__strata_aliases_was[$1]+x} ]]; then
      BASH_ALIASES[$1]=${__strata_aliases_was[$1]}
    else
      \builtin unalias -- "$1"
    fi
  fi
  \builtin unset -v "__strata_aliases_set[$1]" "__strata_aliases_was[$1]"
}

# Events: after a change, strata calls strata_on_leave DIR CONTEXT EVENT…, strata_on_context
# NEW OLD and strata_on_enter DIR CONTEXT EVENT… where you defined them (`declare -F` tells,
# without a process). Directory files name events; the code is yours, in your rc file.
__strata_event() {
  if \builtin declare -F "strata_on_$1" >/dev/null; then
    "strata_on_$1" "${@:2}" || \builtin :
  fi
}

# Until the first export, every prompt asks strata: shell/fresh.bash with no test.
@INITIAL_HOOK@

__strata_install() {
  \builtin local __strata_c
  if [[ "$(\builtin declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]] \
    || ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))); then
    for __strata_c in "${PROMPT_COMMAND[@]}"; do
      [[ $__strata_c == __strata_hook || $__strata_c == '__strata_hook $?' ]] && \builtin return 0
    done
    PROMPT_COMMAND=('__strata_hook $?' ${PROMPT_COMMAND[@]+"${PROMPT_COMMAND[@]}"})
  else
    case ";${PROMPT_COMMAND-};" in
      *";__strata_hook;"* | *";__strata_hook \$?;"*) \builtin return 0 ;;
    esac
    # bash < 5.1 only knows the string form of PROMPT_COMMAND.
    # shellcheck disable=SC2178,SC2128
    PROMPT_COMMAND="__strata_hook \$?${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
  fi
}
__strata_install
\builtin unset -f __strata_install
