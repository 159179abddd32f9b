# strata's completions for nushell: `strata completions --install nu` writes this file into
# nushell's autoload directory. nushell has one external completer for every command: this one
# answers for strata and hands any other command to the completer that was there before.
# strata itself answers (clap_complete's dynamic completions, in the newline-separated form it
# gives elvish), so context names, session ids and setting keys complete from what exists at
# that moment; the variables that make it answer are set for that one call (with-env).
$env.config.completions.external.completer = (
    do {|prev|
        {|spans|
            if ($spans.0? | default '' | path basename) == 'strata' {
                let asked = {
                    @COMPLETE_VAR@: 'elvish'
                    _CLAP_IFS: "\n"
                    _CLAP_COMPLETE_INDEX: (($spans | length) - 1 | into string)
                }
                with-env $asked { run-external @STRATA_BIN@ '--' ...$spans | lines | each {|v| {value: $v} } }
            } else if $prev != null {
                do $prev $spans
            }
        }
    } ($env.config.completions.external.completer? | default null)
)
