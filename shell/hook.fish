# strata hook for fish. Install with:  strata hook fish | source
#
# Runs before each prompt and whenever $PWD changes. It decides with builtins only whether
# anything can have changed since the last `strata export` (same $PWD, STRATA_CONTEXT and
# STRATA_SESSION, and no watched path newer than this shell's stamp file) and only otherwise
# runs strata. Each export redefines the hook with that test spelled out. The user's $status is
# preserved (by fish, which restores it after every event handler).

set -g __strata_bin @STRATA_BIN@
set -g __strata_stamp @STAMP_DIR@/$fish_pid
test -n "$STRATA_SESSION"; or set -gx STRATA_SESSION @SESSION@

# Runs strata and applies what it prints. That output also redefines __strata_hook (from
# shell/fresh.fish) with the test that lets the next prompts skip strata.
function __strata_export
    $__strata_bin export fish --hook --stamp "$__strata_stamp" | builtin source
end

# Until the first export, every prompt asks strata: shell/fresh.fish with no test.
@INITIAL_HOOK@
