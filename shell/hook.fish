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

# Builtins are called as `builtin …` where a function of the user's could take their name.
# Aliases from [aliases] (strata prints calls to these two only when one changes): a function
# that runs the words, with the user's arguments after them. A function the user had under
# that name is kept (functions --copy) and given back when strata removes its own, unless the
# user has redefined it in between: then it stays as the user made it.
function __strata_alias --argument-names __strata_name
    if not builtin contains -- $__strata_name $__strata_aliases
        builtin functions -e __strata_was_$__strata_name
        if builtin functions -q $__strata_name
            builtin functions -c $__strata_name __strata_was_$__strata_name
        end
        set -g -a __strata_aliases $__strata_name
    end
    set -l __strata_words $argv[2..-1]
    if test "$__strata_words[1]" = $__strata_name
        # An alias that runs the command of its own name: that command, not itself again.
        function $__strata_name --inherit-variable __strata_words --description 'strata alias'
            command $__strata_words $argv
        end
    else
        function $__strata_name --wraps "$__strata_words" --inherit-variable __strata_words --description 'strata alias'
            $__strata_words $argv
        end
    end
end

function __strata_unalias --argument-names __strata_name
    set -l __strata_i (builtin contains -i -- $__strata_name $__strata_aliases); or return 0
    set -e __strata_aliases[$__strata_i]
    set -l __strata_d (builtin functions -D -v $__strata_name)
    if test "$__strata_d[5]" = 'strata alias'
        builtin functions -e $__strata_name
        if builtin functions -q __strata_was_$__strata_name
            builtin functions -c __strata_was_$__strata_name $__strata_name
        end
    end
    builtin functions -e __strata_was_$__strata_name
end

# Events: after a change, strata calls strata_on_leave DIR CONTEXT EVENT…, strata_on_context
# NEW OLD and strata_on_enter DIR CONTEXT EVENT… where you defined them (`functions -q` tells,
# without a process). Directory files name events; the code is yours, in your config.
function __strata_event
    if builtin functions -q strata_on_$argv[1]
        strata_on_$argv[1] $argv[2..-1]
    end
end

# Runs strata and applies what it prints. That output also redefines __strata_hook (from
# shell/fresh.fish) with the test that lets the next prompts skip strata.
function __strata_export
    $__strata_bin export fish --hook --stamp "$__strata_stamp" | builtin source
end

# Until the first export, every prompt asks strata: shell/fresh.fish with no test.
@INITIAL_HOOK@
