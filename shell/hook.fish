# strata hook for fish. Install with:  strata hook fish | source
#
# Runs before each prompt and whenever $PWD changes. It decides with builtins only whether
# anything can have changed since the last `strata export` (same $PWD, STRATA_CONTEXT,
# STRATA_SESSION, STRATA_STATE, and no watched path newer than this shell's stamp file) and only
# otherwise runs strata. The user's $status is preserved.

set -g __strata_bin @STRATA_BIN@
set -g __strata_stamp @STAMP_DIR@/$fish_pid
test -n "$STRATA_SESSION"; or set -gx STRATA_SESSION @SESSION@

function __strata_fresh
    test "$__strata_fast" = 1; and test -e "$__strata_stamp"; or return 1
    test "$__strata_seen" = "$STRATA_STATE"; and test "$__strata_pwd" = "$PWD"; or return 1
    test "$__strata_ctx" = "$STRATA_CONTEXT"; and test "$__strata_ses" = "$STRATA_SESSION"; or return 1
    for __strata_f in $__strata_watch
        test "$__strata_f" -nt "$__strata_stamp"; and return 1
    end
    return 0
end

function __strata_hook --on-event fish_prompt --on-variable PWD
    set -l __strata_status $status
    if not __strata_fresh
        $__strata_bin export fish --hook --stamp "$__strata_stamp" | source
    end
    return $__strata_status
end
