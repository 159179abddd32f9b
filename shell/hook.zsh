# strata hook for zsh. Install with:  eval "$(strata hook zsh)"
#
# Runs before each prompt (precmd) and on every directory change (chpwd). It decides with
# builtins only whether anything can have changed since the last `strata export` (same $PWD,
# STRATA_CONTEXT and STRATA_SESSION, and no watched path newer than this shell's stamp file)
# and only otherwise runs strata. Each export redefines the hook with that test spelled out.
# The user's $? is preserved. Builtins are called as `\builtin …` (the user's functions named
# like them cannot interfere), and the installer runs under `emulate -L zsh`, so options such
# as KSH_ARRAYS, SH_WORD_SPLIT or NO_UNSET change nothing.

\builtin typeset -g __strata_bin=@STRATA_BIN@
\builtin typeset -g __strata_stamp=@STAMP_DIR@/$$
[[ -n ${STRATA_SESSION-} ]] || \builtin export STRATA_SESSION=@SESSION@
\builtin zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null

# Runs strata and applies what it prints. That output also redefines __strata_hook (from
# shell/fresh.zsh) with the test that lets the next prompts skip strata.
__strata_export() {
  \builtin eval "$("$__strata_bin" export zsh --hook --stamp "$__strata_stamp")"
}

# Aliases from [aliases] (strata prints calls to these two only when one changes). The user's
# alias of that name is kept and given back when strata removes its own, unless the user has
# redefined it in between: then it stays as the user made it.
\builtin zmodload zsh/parameter 2>/dev/null
\builtin typeset -gA __strata_aliases_set __strata_aliases_was
__strata_alias() {
  \builtin emulate -L zsh
  if (( ! ${+__strata_aliases_set[$1]} && ${+aliases[$1]} )); then
    __strata_aliases_was[$1]=${aliases[$1]}
  fi
  __strata_aliases_set[$1]=$2
  aliases[$1]=$2
}
__strata_unalias() {
  \builtin emulate -L zsh
  if (( ${+__strata_aliases_set[$1]} )) && [[ ${aliases[$1]-} == "${__strata_aliases_set[$1]}" ]]; then
    if (( ${+__strata_aliases_was[$1]} )); then
      aliases[$1]=${__strata_aliases_was[$1]}
    else
      \builtin unalias -- $1
    fi
  fi
  \builtin unset "__strata_aliases_set[$1]" "__strata_aliases_was[$1]"
}

# Events: after a change, strata calls strata_on_leave DIR CONTEXT EVENT…, strata_on_context
# NEW OLD and strata_on_enter DIR CONTEXT EVENT… where you defined them ($functions tells,
# without a process). Directory files name events; the code is yours, in your rc file.
__strata_event() {
  if (( ${+functions[strata_on_$1]} )); then
    "strata_on_$1" "${@:2}" || \builtin :
  fi
}

# Until the first export, every prompt asks strata: shell/fresh.zsh with no test.
@INITIAL_HOOK@

__strata_install() {
  \builtin emulate -L zsh
  \builtin typeset -ga precmd_functions chpwd_functions
  if (( ! ${precmd_functions[(Ie)__strata_hook]} )); then
    precmd_functions=(__strata_hook "${precmd_functions[@]}")
  fi
  if (( ! ${chpwd_functions[(Ie)__strata_hook]} )); then
    chpwd_functions=(__strata_hook "${chpwd_functions[@]}")
  fi
}
__strata_install
\builtin unfunction __strata_install
