# tcsh: what the hook's test files source when something can have changed. strata writes its
# code to $__strata_out, which is sourced only when strata ran to the end (status 0) and wrote
# it (that code names the test for the next prompts). Otherwise (strata is gone, the disk is
# full: strata has said why) the hook goes back to its own test, shell/fresh.tcsh, and asks
# again only in another place, instead of repeating that at every prompt.
$__strata_bin:q export tcsh --hook --stamp $__strata_stamp:q
if ( $status == 0 && -e $__strata_out:q ) then
    source $__strata_out:q
else
    set __strata_cwd = $cwd:q
    set __strata_ctx = ''
    if ( $?STRATA_CONTEXT ) set __strata_ctx = $STRATA_CONTEXT:q
    set __strata_ses = ''
    if ( $?STRATA_SESSION ) set __strata_ses = $STRATA_SESSION:q
    set __strata_fresh = $__strata_fresh0:q
endif
