# strata hook for fish. Install with:  strata hook fish | source
#
# Runs before each prompt and whenever $PWD changes. It decides with builtins only whether
# anything can have changed since the last `strata export` (same $PWD, STRATA_CONTEXT and
# STRATA_SESSION, and no watched path newer than this shell's stamp file: `__strata_fresh`,
# which each export redefines) and only otherwise runs strata. The user's $status is preserved.

set -g __strata_bin @STRATA_BIN@
set -g __strata_stamp @STAMP_DIR@/$fish_pid
test -n "$STRATA_SESSION"; or set -gx STRATA_SESSION @SESSION@

# Succeeds when strata need not run. Each export redefines it (from shell/fresh.fish) with the
# test spelled out; until the first one, every prompt asks strata: fresh.fish with no test.
@INITIAL_HOOK@

function __strata_hook --on-event fish_prompt --on-variable PWD
    set -l __strata_status $status
    if not __strata_fresh
        $__strata_bin export fish --hook --stamp "$__strata_stamp" | builtin source
    end
    return $__strata_status
end
