# strata: a BASH_ENV file, written by `strata hook bash --env-file`.
#
# Every non-interactive bash started with BASH_ENV pointing here (`bash -c '…'`, a script)
# applies, once and silently, the state of its session (STRATA_SESSION) and the directory
# layers of its working directory, with no rc file. It never fails the command it precedes.

if __strata_env_out=$(STRATA_LOG=quiet @STRATA_BIN@ export bash 2>/dev/null); then
  eval "$__strata_env_out" 2>/dev/null
fi
unset __strata_env_out
