# fish: the test every `strata export --hook` redefines (see fresh.sh). The hook skips strata
# while it succeeds. Lines starting with # are not sent.
function __strata_fresh
    @FRESH@
end
