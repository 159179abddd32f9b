# strata hook for tcsh. Install with, in ~/.tcshrc:
#   eval "`strata hook tcsh`"
#
# `strata hook tcsh` writes this file, shell/fresh.tcsh and shell/ask.tcsh into strata's state
# directory and prints one line that sources this one (tcsh evaluates command output as one
# line, which cannot hold its multi-line statements). Before each prompt (precmd) and after
# every directory change (cwdcmd) it sources $__strata_fresh: the test, with builtins only,
# whether anything can have changed since the last `strata export` (each export names the file
# with its own test), which only otherwise runs strata (shell/ask.tcsh).
# tcsh has a single precmd and a single cwdcmd alias: the hook runs first and then whatever
# they held when it was installed (define yours above the hook's line, or call __strata_hook
# from them). Sourcing the rc file twice installs it once.

set __strata_bin = @STRATA_BIN@
set __strata_stamp = @STAMP_DIR@/$$
set __strata_out = @STAMP_DIR@/$$.tcsh
set __strata_fresh0 = @FRESH_FILE@
set __strata_ask = @ASK_FILE@
set __strata_fresh = $__strata_fresh0:q
if ( $?STRATA_SESSION ) then
    if ( "$STRATA_SESSION:q" == '' ) setenv STRATA_SESSION $__strata_session:q
else
    setenv STRATA_SESSION $__strata_session:q
endif
unset __strata_session
# Until the first export, every prompt asks strata.
unset __strata_cwd
alias __strata_hook 'source $__strata_fresh:q'
if ( $?__strata_hooked == 0 ) then
    set __strata_hooked
    set __strata_prev = "`alias precmd`"
    if ( "$__strata_prev" =~ *__strata_hook* ) then
    else if ( "$__strata_prev" == '' ) then
        alias precmd __strata_hook
    else
        alias precmd "__strata_hook; $__strata_prev"
    endif
    set __strata_prev = "`alias cwdcmd`"
    if ( "$__strata_prev" =~ *__strata_hook* ) then
    else if ( "$__strata_prev" == '' ) then
        alias cwdcmd __strata_hook
    else
        alias cwdcmd "__strata_hook; $__strata_prev"
    endif
    unset __strata_prev
endif
