# strata: a .zshenv for ZDOTDIR, written by `strata hook zsh --env-file`; do not edit.
#
# Every non-interactive zsh started with ZDOTDIR naming this file's directory (`zsh -c '…'`, a
# script) applies, once and silently, the state of its session and the directory layers of its
# working directory. Interactive shells are left to the hook (`eval "$(strata hook zsh)"`). When
# nothing changed it starts no process: see shell/env.bash. Lines starting with # are not written.
[[ -o interactive ]] && \builtin return 0
[[ $- != *[xv]* && -O @INDEX@ && ! -L @INDEX@ ]] && \builtin source @INDEX@ && \builtin return 0
# The cache missed (or xtrace or verbose is on, which would print every value it sets).
if [[ $- == *[xv]* ]]; then __strata_o=$-; \builtin set +xv; fi
if __strata_env_out=$(@STRATA_BIN@ export zsh --agent 2>/dev/null); then
  \builtin eval "$__strata_env_out" 2>/dev/null
fi
\builtin unset __strata_env_out
if [[ ${__strata_o-} == *v* ]]; then \builtin set -v; fi
if [[ ${__strata_o-} == *x* ]]; then \builtin unset __strata_o; \builtin set -x; fi
\builtin unset __strata_o
