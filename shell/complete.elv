# strata's completions for elvish: `strata completions --install elvish` writes this module to
# ~/.config/elvish/lib/strata-completions.elv, and `use strata-completions` in rc.elv loads it.
# strata itself answers (clap_complete's dynamic completions), so context names, session ids
# and setting keys complete from what exists at that moment. The variables that make strata
# answer are set with `tmp`, for the one call only: strata started later never sees them.
set edit:completion:arg-completer[strata] = {|@words|
    tmp E:_CLAP_IFS = "\n"
    tmp E:_CLAP_COMPLETE_INDEX = (to-string (- (count $words) 1))
    tmp E:@COMPLETE_VAR@ = elvish
    (external @STRATA_BIN@) -- $@words
}
