# strata hook for zsh. Install with:  eval "$(strata hook zsh)"
#
# Runs before each prompt (precmd) and on every directory change (chpwd). It decides with
# builtins only whether anything can have changed since the last `strata export` (same $PWD,
# STRATA_CONTEXT and STRATA_SESSION, and no watched path newer than this shell's stamp file:
# `__strata_changed`, which strata defines) and only otherwise runs strata. The user's $? is
# preserved.

typeset -g __strata_bin=@STRATA_BIN@
typeset -g __strata_stamp=@STAMP_DIR@/$$
[[ -n ${STRATA_SESSION-} ]] || export STRATA_SESSION=@SESSION@
zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null

__strata_hook() {
  local __strata_status=$?
  # One compound test: cheap enough for every prompt. Anything it cannot decide runs strata.
  if [[ ${__strata_fast-0} != 1 || ${__strata_pwd-} != "$PWD" ||
    ${__strata_ctx-} != "${STRATA_CONTEXT-}" || ${__strata_ses-} != "${STRATA_SESSION-}" ]] ||
    { (( ${__strata_deadline:-0} > 0 )) && ! { [[ -n ${EPOCHSECONDS-} ]] && (( EPOCHSECONDS < __strata_deadline )); }; } ||
    __strata_changed; then
    eval "$("$__strata_bin" export zsh --hook --stamp "$__strata_stamp")"
  fi
  return $__strata_status
}

typeset -ga precmd_functions chpwd_functions
if (( ! ${precmd_functions[(Ie)__strata_hook]} )); then
  precmd_functions=(__strata_hook $precmd_functions)
fi
if (( ! ${chpwd_functions[(Ie)__strata_hook]} )); then
  chpwd_functions=(__strata_hook $chpwd_functions)
fi
