# strata: a BASH_ENV file, written by `strata hook bash --env-file`; do not edit.
#
# Every non-interactive bash started with BASH_ENV pointing here (`bash -c '…'`, a script)
# applies, once and silently, the state of its session (STRATA_SESSION) and the directory
# layers of its working directory, with no rc file. It never fails the command it precedes.
#
# When nothing changed since a shell like this one last asked strata, it starts no process:
# the agent cache's index (see src/agent.rs) names the entry for this $PWD, whose test (the same
# context, session and environment, no watched file newer than its stamp) passes, and which
# then applies what strata printed last time. Only otherwise does strata run, and it writes a
# new entry for the next shell. Only files owned by the user that are not symlinks are read.
# With xtrace or verbose on, strata runs instead, with both off: `bash -x -c` prints no values.
# Lines starting with # are not written.
[[ $- != *[xv]* && -O @INDEX@ && ! -L @INDEX@ ]] && \builtin source @INDEX@ && \builtin return 0
# The cache missed (or xtrace or verbose is on, which would print every value it sets).
if [[ $- == *[xv]* ]]; then __strata_o=$-; \builtin set +xv; fi
if __strata_env_out=$(@STRATA_BIN@ export bash --agent 2>/dev/null); then
  \builtin eval "$__strata_env_out" 2>/dev/null
fi
\builtin unset -v __strata_env_out
if [[ ${__strata_o-} == *v* ]]; then \builtin set -v; fi
if [[ ${__strata_o-} == *x* ]]; then \builtin unset -v __strata_o; \builtin set -x; fi
\builtin unset -v __strata_o
