# tcsh: what __strata_hook runs before each prompt and after each cd until the first export,
# and after an export that could not write its test (strata writes no comment lines: tcsh
# would read them at every prompt). Every export names in $__strata_fresh a file of its own
# with the test spelled out for its paths (`tcsh_fresh` in src/shells/mod.rs): a `foreach`, or
# a comment line, costs tcsh more than a test. This copy tests only the place: it asks strata
# (shell/ask.tcsh) when $cwd, STRATA_CONTEXT or STRATA_SESSION differ from the last export's
# and always while $__strata_cwd is unset. The user's $status is given back.
set __strata_status = $status
set __strata_ok = $?__strata_cwd
if ( $__strata_ok ) then
    if ( "$cwd:q" != "$__strata_cwd:q" ) set __strata_ok = 0
    if ( $?STRATA_CONTEXT ) then
        if ( "$STRATA_CONTEXT:q" != "$__strata_ctx:q" ) set __strata_ok = 0
    else if ( "$__strata_ctx:q" != '' ) then
        set __strata_ok = 0
    endif
    if ( $?STRATA_SESSION ) then
        if ( "$STRATA_SESSION:q" != "$__strata_ses:q" ) set __strata_ok = 0
    else if ( "$__strata_ses:q" != '' ) then
        set __strata_ok = 0
    endif
endif
if ( $__strata_ok == 0 ) source $__strata_ask:q
set status = $__strata_status
