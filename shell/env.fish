# strata: non-interactive fish config, written by `strata hook fish --env-file`; do not edit.
#
# Put in ~/.config/fish/conf.d/ (or sourced from config.fish), every non-interactive fish
# (`fish -c '…'`, a script) applies, once and silently, the state of its session and the
# directory layers of its working directory. Interactive shells are left to the hook
# (`strata hook fish | source`). When nothing changed it starts no process: see shell/env.bash.
# Lines starting with # are not written.
status is-interactive; and return
test -O @INDEX@ -a ! -L @INDEX@; and source @INDEX@; and return 0
@STRATA_BIN@ export fish --agent 2>/dev/null | source
