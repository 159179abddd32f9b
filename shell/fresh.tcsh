# tcsh: what __strata_hook runs before each prompt and after each cd. It asks strata only when
# something the last export depended on can have changed: another $cwd, STRATA_CONTEXT or
# STRATA_SESSION, a watched path ($__strata_w) modified in or after the second of this shell's
# stamp file (tcsh's -M has whole seconds; a tie counts as a change), or a path that must not
# exist ($__strata_a) that does. The variables come from the last export; without them
# ($__strata_cwd unset) it always asks. strata writes its code to $__strata_out, which is
# sourced only when strata ran to the end (status 0) and wrote it; otherwise (strata is gone,
# the disk is full: strata has said why) the hook asks again only in another place, instead of
# repeating that at every prompt. The user's $status is given back.
set __strata_status = $status
set __strata_ok = $?__strata_cwd
if ( $__strata_ok ) then
    if ( $cwd:q != $__strata_cwd:q ) set __strata_ok = 0
    if ( $?STRATA_CONTEXT ) then
        if ( $STRATA_CONTEXT:q != $__strata_ctx:q ) set __strata_ok = 0
    else if ( $__strata_ctx:q != '' ) then
        set __strata_ok = 0
    endif
    if ( $?STRATA_SESSION ) then
        if ( $STRATA_SESSION:q != $__strata_ses:q ) set __strata_ok = 0
    else if ( $__strata_ses:q != '' ) then
        set __strata_ok = 0
    endif
    @ __strata_since = -M $__strata_stamp:q
    foreach __strata_p ( $__strata_w:q )
        @ __strata_m = -M $__strata_p:q
        if ( $__strata_m >= $__strata_since ) set __strata_ok = 0
    end
    foreach __strata_p ( $__strata_a:q )
        if ( -e $__strata_p:q ) set __strata_ok = 0
    end
endif
if ( $__strata_ok == 0 ) then
    $__strata_bin:q export tcsh --hook --stamp $__strata_stamp:q
    if ( $status == 0 && -e $__strata_out:q ) then
        source $__strata_out:q
    else
        set __strata_cwd = $cwd:q
        set __strata_ctx = ''
        if ( $?STRATA_CONTEXT ) set __strata_ctx = $STRATA_CONTEXT:q
        set __strata_ses = ''
        if ( $?STRATA_SESSION ) set __strata_ses = $STRATA_SESSION:q
        set __strata_w = ( )
        set __strata_a = ( )
    endif
endif
set status = $__strata_status
