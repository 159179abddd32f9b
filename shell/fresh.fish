# fish: the hook as every `strata export --hook` redefines it (see fresh.bash). @FRESH@ is the
# test, with builtins only, that nothing the last export depended on can have changed; the
# hook skips strata while it succeeds. It keeps no $status of its own: fish gives the user's
# back after every event handler (fish 3.0 and later). Lines starting with # are not sent.
function __strata_hook --on-event fish_prompt --on-variable PWD
    @FRESH@; or __strata_export
end
