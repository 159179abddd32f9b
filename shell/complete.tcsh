# strata's completions for tcsh: `strata completions --install tcsh` writes this file, and
# `source` of it in ~/.tcshrc loads it (or `eval "`strata completions tcsh`"`: strata prints
# it without these comment lines, as the one line eval takes). tcsh's `complete` runs strata
# from a backquote with the line so far in COMMAND_LINE; strata itself answers, so context
# names, session ids and setting keys complete from what exists at that moment. The variable
# that makes it answer is set in the backquote's subshell only.
set __strata_complete_bin = @STRATA_BIN@; complete strata 'p/*/`setenv @COMPLETE_VAR@ tcsh; $__strata_complete_bin:q`/'
