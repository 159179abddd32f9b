#!/usr/bin/env bash
# strata benchmark: strata vs /bin/true, direnv, mise and shadowenv, side by side in one run.
# What it measures and why: bench/README.md.
#
#   bash bench/run.sh [--quick] [--rounds N] [--no-build] [--strata PATH] [--variant NAME=PATH]...
#                     [--no-peers] [--only GROUP,...] [--workdir DIR] [--keep]
#
# --only: a subset of the cases, by group: peers (every tool's prompt in bash, export no-op and
# loads, with peak RSS and instructions), prompts (strata's idle prompt in bash, zsh, fish, nu,
# elvish, xonsh and tcsh), scale, agent. Default: all four.
#
# Every figure is a median over interleaved rounds, in ms per call and as a ratio to one
# /bin/true spawn timed the same way in the same run. Nothing here asserts a timing.

# ---------------------------------------------------------------------------------------------
# The runner: this file re-invokes itself as `bash run.sh __run ...` under `env -i` with one
# tool's isolated environment. It is not in strict mode on purpose: it evals the tools' hook code.
# It prints one line on stdout: `OK <total_us> <n> <extra>` or `FAIL <reason>`.
# ---------------------------------------------------------------------------------------------

r_fail() { printf 'FAIL %s\n' "$*"; exit 0; }

# r_verify DEPTH TOP: the tree fixture's variables are loaded (DEPTH levels, TOP = level 0 dir).
# r_verify var:NAME=VALUE -: that one variable is set to VALUE. r_verify 0 -: nothing to check.
r_verify() {
  local depth=$1 top=$2 last v want
  if [[ $depth == var:* ]]; then
    v=${depth#var:}; want=${v#*=}; v=${v%%=*}
    [[ ${!v-} == "$want" ]] || { echo "$v not set"; return 1; }
    return 0
  fi
  [[ $depth -gt 0 ]] || return 0
  last=$((depth - 1))
  [[ ${L0_V1-} == "level 0 value 1" ]] || { echo "L0_V1 not set (got '${L0_V1-<unset>}')"; return 1; }
  v="L${last}_V7"; want="level $last value 7"
  [[ ${!v-} == "$want" ]] || { echo "$v not set"; return 1; }
  [[ ${DOTENV_100-} == "dotenv value 100" ]] || { echo "DOTENV_100 (.env) not set"; return 1; }
  [[ ":${PATH-}:" == *":$top/bin:"* ]] || { echo "$top/bin not in PATH"; return 1; }
  return 0
}

# r_cmd TOOL BIN: the command that computes the environment, in CMD.
r_cmd() {
  case $1 in
    true) CMD=(/bin/true) ;;
    strata | strata+* | direnv) CMD=("$2" export bash) ;;
    mise) CMD=("$2" hook-env -s bash) ;;
    shadowenv) CMD=("$2" hook --shellpid "$$") ;;
    strata-ctxlist) CMD=("$2" context list) ;;
    strata-gc) CMD=("$2" session gc) ;;
    *) r_fail "unknown tool $1" ;;
  esac
}

# __run proc TOOL BIN DIR N MODE DEPTH TOP [WRAPPER...]
#   MODE load:  time N calls from the environment as given (a fresh one: nothing loaded yet)
#   MODE noop:  eval one call's output first (the load), then time N calls that should do nothing
#   MODE plain: just time N calls
#   MODE floor=PATH: as noop, then time N calls of PATH (an empty program) in that environment
r_proc() {
  local tool=$1 bin=$2 dir=$3 n=$4 mode=$5 depth=$6 top=$7 out why i fails=0 t0 t1 extra=-
  shift 7
  local -a WRAP=("$@") CMD=()
  cd "$dir" || r_fail "cd $dir"
  r_cmd "$tool" "$bin"
  local floor=
  [[ $mode == floor=* ]] && floor=${mode#floor=} mode=noop
  case $mode in
    load)
      why=$(eval "$("${CMD[@]}" 2>/dev/null)" >/dev/null 2>&1; r_verify "$depth" "$top") ||
        r_fail "load: $why"
      ;;
    noop)
      eval "$("${CMD[@]}" 2>/dev/null)" >/dev/null 2>&1
      why=$(r_verify "$depth" "$top") || r_fail "load: $why"
      r_cmd "$tool" "$bin"
      out=$("${CMD[@]}" 2>/dev/null)
      eval "$out" >/dev/null 2>&1
      r_cmd "$tool" "$bin"
      out=$("${CMD[@]}" 2>/dev/null)
      extra=${#out}   # bytes a no-op call still prints (should be 0)
      [[ -n $floor ]] && CMD=("$floor")
      ;;
  esac
  t0=${EPOCHREALTIME//[.,]/}
  for ((i = 0; i < n; i++)); do
    "${WRAP[@]}" "${CMD[@]}" >/dev/null 2>&1 || ((fails++))
  done
  t1=${EPOCHREALTIME//[.,]/}
  [[ $fails -eq 0 ]] || r_fail "$fails of $n calls exited non-zero"
  printf 'OK %s %s %s\n' "$((t1 - t0))" "$n" "$extra"
}

# __run hook TOOL BIN DIR N DEPTH TOP NTRUE
#   source the tool's bash hook, cd into DIR, run prompts until loaded, then time N prompts
#   (one prompt = every PROMPT_COMMAND entry, eval'd) and NTRUE /bin/true spawns in the same bash.
r_hook() {
  local tool=$1 bin=$2 dir=$3 n=$4 depth=$5 top=$6 ntrue=$7 why i c t0 t1 t2 t3
  case $tool in
    strata | strata+* | direnv) eval "$("$bin" hook bash 2>/dev/null)" ;;
    mise) eval "$("$bin" activate bash 2>/dev/null)" ;;
    shadowenv)
      eval "$("$bin" init bash 2>/dev/null)"
      trap - DEBUG   # its per-command DEBUG trap would also fire inside the timing loop
      ;;
    *) r_fail "unknown tool $tool" ;;
  esac
  [[ -n ${PROMPT_COMMAND[*]-} ]] || r_fail "the hook set no PROMPT_COMMAND"
  cd "$dir" || r_fail "cd $dir"
  for ((i = 0; i < 3; i++)); do
    for c in "${PROMPT_COMMAND[@]}"; do eval "$c"; done
  done
  why=$(r_verify "$depth" "$top") || r_fail "not loaded after 3 prompts: $why"
  t0=${EPOCHREALTIME//[.,]/}
  for ((i = 0; i < n; i++)); do
    for c in "${PROMPT_COMMAND[@]}"; do eval "$c"; done
  done
  t1=${EPOCHREALTIME//[.,]/}
  for ((i = 0; i < ntrue; i++)); do
    /bin/true
  done
  t2=${EPOCHREALTIME//[.,]/}
  t3=$(((t2 - t1) * n / ntrue))   # scaled to N calls
  why=$(r_verify "$depth" "$top") || r_fail "unloaded during the prompts: $why"
  printf 'OK %s %s %s\n' "$((t1 - t0))" "$n" "$t3"
}

# __run shprompt SHELL BIN DIR N NTRUE
#   the idle prompt in SHELL itself (not bash): a SHELL script installs strata's hook with the
#   README's rc line (nu: `source` of the file that line writes; a script reads no autoload
#   dir), cds into DIR, prompts until loaded, then times N prompts, run the way SHELL runs its
#   prompt hooks, and NTRUE /bin/true spawns, in that same SHELL and timed with its own clock
#   (fish, elvish's loop bounds and tcsh: `date`, outside the loops). See r_prompt_script.
r_shprompt() {
  local sh=$1 bin=$2 dir=$3 n=$4 ntrue=$5 shbin f out
  shbin=$(command -v "$sh") || r_fail "$sh not installed"
  f=$HOME/prompt-bench.$sh
  # The rc lines say `strata`: that name, on PATH, for whichever binary is measured.
  { mkdir -p "$HOME/prompt-bench-bin" && ln -sf "$bin" "$HOME/prompt-bench-bin/strata"; } || r_fail "symlink"
  export PATH=$HOME/prompt-bench-bin:$PATH
  r_prompt_script "$sh" "$bin" >"$f" || r_fail "no prompt script for $sh"
  local -a args=()
  case $sh in
    zsh | tcsh) args=(-f) ;;
    fish) args=(--no-config) ;;
    nu) args=(-n) ;;
    elvish) args=(-norc) ;;
    xonsh) args=(--no-rc --no-script-cache) ;;
  esac
  out=$(BENCH_DIR=$dir BENCH_N=$n BENCH_NTRUE=$ntrue "$shbin" "${args[@]}" "$f" 2>>"$HOME/prompt-bench.$sh.err" | tail -n 1)
  [[ $out == OK\ * || $out == FAIL\ * ]] || r_fail "$sh printed '${out:0:80}' (stderr: $HOME/prompt-bench.$sh.err)"
  printf '%s\n' "$out"
}

# r_prompt_script SHELL BIN: the script r_shprompt runs. Each one prints `OK <prompts µs> <N>
# <true µs scaled to N>` or `FAIL <why>`. The prompt is what the shell runs before its prompt:
#   zsh: every function in precmd_functions; fish: `emit fish_prompt`; nu: every closure in
#   $env.config.hooks.pre_prompt (`do --env`; a script cannot run the hook that is code, which
#   sources the aliases file when there is one, so its file test is not counted); xonsh: events.on_pre_prompt.fire(); tcsh: the
#   precmd alias; elvish: a script has no editor (no edit:before-readline), so the hooks the
#   hook installed in after-chdir, which run the same __strata_hook (it runs strata each time).
r_prompt_script() {
  local sh=$1 bin=$2
  case $sh in
    zsh)
      cat <<'EOF'
eval "$(strata hook zsh)"
cd -- "$BENCH_DIR" || { print "FAIL cd"; exit 0; }
zmodload zsh/datetime
for i in 1 2 3; do for __f in $precmd_functions; do $__f; done; done
[[ ${L0_V1-} == 'level 0 value 1' ]] || { print "FAIL not loaded after 3 prompts"; exit 0; }
t0=$EPOCHREALTIME
for ((i = 0; i < BENCH_N; i++)); do for __f in $precmd_functions; do $__f; done; done
t1=$EPOCHREALTIME
for ((i = 0; i < BENCH_NTRUE; i++)); do /bin/true; done
t2=$EPOCHREALTIME
[[ ${L0_V1-} == 'level 0 value 1' ]] || { print "FAIL unloaded during the prompts"; exit 0; }
printf 'OK %.0f %d %.0f\n' $(( (t1 - t0) * 1e6 )) $BENCH_N $(( (t2 - t1) * 1e6 * BENCH_N / BENCH_NTRUE ))
EOF
      ;;
    fish)
      cat <<'EOF'
strata hook fish | source
cd $BENCH_DIR; or begin; echo "FAIL cd"; exit 0; end
for i in 1 2 3; emit fish_prompt; end
test "$L0_V1" = 'level 0 value 1'; or begin; echo "FAIL not loaded after 3 prompts"; exit 0; end
set -l t0 (date +%s%6N)
for i in (seq $BENCH_N); emit fish_prompt; end
set -l t1 (date +%s%6N)
for i in (seq $BENCH_NTRUE); /bin/true; end
set -l t2 (date +%s%6N)
test "$L0_V1" = 'level 0 value 1'; or begin; echo "FAIL unloaded during the prompts"; exit 0; end
echo OK (math "$t1 - $t0") $BENCH_N (math "round(($t2 - $t1) * $BENCH_N / $BENCH_NTRUE)")
EOF
      ;;
    nu)
      # `source` takes a path known when the script is parsed: written in.
      "$bin" hook nu >"$HOME/prompt-bench-hook.nu" 2>/dev/null || return 1
      printf "source r#'%s'#\n" "$HOME/prompt-bench-hook.nu"
      cat <<'EOF'
cd $env.BENCH_DIR
let hooks = ($env.config.hooks.pre_prompt | where {|h| ($h | describe) != 'string' })
for i in 1..3 { for h in $hooks { do --env $h } }
if ($env.L0_V1? | default '') != 'level 0 value 1' { print "FAIL not loaded after 3 prompts"; exit 0 }
let n = ($env.BENCH_N | into int)
let ntrue = ($env.BENCH_NTRUE | into int)
let t0 = (date now)
for i in 1..$n { for h in $hooks { do --env $h } }
let t1 = (date now)
for i in 1..$ntrue { ^/bin/true }
let t2 = (date now)
if ($env.L0_V1? | default '') != 'level 0 value 1' { print "FAIL unloaded during the prompts"; exit 0 }
print $"OK ((($t1 - $t0) | into int) // 1000) ($n) ((($t2 - $t1) | into int) * $n // $ntrue // 1000)"
EOF
      ;;
    elvish)
      cat <<'EOF'
eval (strata hook elvish | slurp)
cd $E:BENCH_DIR
for i [1 2 3] { for f $after-chdir { $f $pwd } }
if (not-eq $E:L0_V1 'level 0 value 1') { echo 'FAIL not loaded after 3 prompts'; exit 0 }
var n = (num $E:BENCH_N)
var ntrue = (num $E:BENCH_NTRUE)
var dp = 0
var dt = 0
time &on-end={|d| set dp = $d } { for i [(range $n)] { for f $after-chdir { $f $pwd } } }
time &on-end={|d| set dt = $d } { for i [(range $ntrue)] { /bin/true } }
if (not-eq $E:L0_V1 'level 0 value 1') { echo 'FAIL unloaded during the prompts'; exit 0 }
echo 'OK '(printf '%.0f' (* $dp 1000000))' '$n' '(printf '%.0f' (/ (* $dt 1000000 $n) $ntrue))
EOF
      ;;
    xonsh)
      cat <<'EOF'
execx(__import__('subprocess').run(['strata', 'hook', 'xonsh'], stdout=-1, env=__xonsh__.env.detype()).stdout.decode())
import os, time
cd @(os.environ["BENCH_DIR"])
for _ in range(3):
    events.on_pre_prompt.fire()
def _bench():
    want = 'level 0 value 1'
    if __xonsh__.env.get("L0_V1") != want:
        return "FAIL not loaded after 3 prompts"
    n = int(os.environ["BENCH_N"])
    ntrue = int(os.environ["BENCH_NTRUE"])
    fire = events.on_pre_prompt.fire
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fire()
    t1 = time.perf_counter_ns()
    for _ in range(ntrue):
        ![/bin/true]
    t2 = time.perf_counter_ns()
    if __xonsh__.env.get("L0_V1") != want:
        return "FAIL unloaded during the prompts"
    return f"OK {(t1 - t0) // 1000} {n} {(t2 - t1) * n // ntrue // 1000}"
print(_bench())
EOF
      ;;
    tcsh)
      cat <<'EOF'
eval "`strata hook tcsh`"
cd $BENCH_DIR
precmd
precmd
precmd
set ok = 0
if ( $?L0_V1 ) then
    if ( "$L0_V1" == 'level 0 value 1' ) set ok = 1
endif
if ( $ok == 0 ) then
    echo "FAIL not loaded after 3 prompts"
    exit 0
endif
set t0 = `date +%s%6N`
@ i = 0
while ( $i < $BENCH_N )
    precmd
    @ i++
end
set t1 = `date +%s%6N`
@ i = 0
while ( $i < $BENCH_NTRUE )
    /bin/true
    @ i++
end
set t2 = `date +%s%6N`
if ( ! $?L0_V1 ) then
    echo "FAIL unloaded during the prompts"
    exit 0
endif
if ( "$L0_V1" != 'level 0 value 1' ) then
    echo "FAIL unloaded during the prompts"
    exit 0
endif
@ dp = $t1 - $t0
@ dt = ( $t2 - $t1 ) * $BENCH_N / $BENCH_NTRUE
echo OK $dp $BENCH_N $dt
EOF
      ;;
    *) return 1 ;;
  esac
}

# __run agent SHELL BIN DIR N CHECK
#   (CHECK: NAME=VALUE, what the env file must set in DIR)
#   write SHELL's env file (`strata hook SHELL --env-file`), check that a fresh `SHELL -c` sees the
#   tree through it, then time N pairs, interleaved: `SHELL -c true` without the env file and with
#   it, as an agent starts one shell per command. Prints the total with it, and without it as extra.
r_agent() {
  local sh=$1 bin=$2 dir=$3 n=$4 check=$5 shbin envf out i t0 t1 with=0 bare=0
  shbin=$(command -v "$sh") || r_fail "$sh not installed"
  cd "$dir" || r_fail "cd $dir"
  export STRATA_SESSION=bench-agent
  case $sh in
    bash) envf=$HOME/agent/env.bash ;;
    zsh) envf=$HOME/agent/zdotdir/.zshenv ;;
    fish) envf=$XDG_CONFIG_HOME/fish/conf.d/strata.fish ;;
    *) r_fail "no env file for $sh" ;;
  esac
  mkdir -p "${envf%/*}" "$HOME/agent/bare-config" || r_fail "mkdir"
  "$bin" hook "$sh" --env-file "$envf" >/dev/null 2>&1 || r_fail "strata hook $sh --env-file failed"
  # with: the env file read the way the README's recipe says; bare: the same shell without it
  # (fish reads conf.d from XDG_CONFIG_HOME: an empty one instead).
  a_with() {
    case $sh in
      bash) BASH_ENV=$envf "$shbin" -c "$@" ;;
      zsh) ZDOTDIR=${envf%/*} "$shbin" -c "$@" ;;
      fish) "$shbin" -c "$@" ;;
    esac
  }
  a_bare() {
    case $sh in
      fish) XDG_CONFIG_HOME=$HOME/agent/bare-config "$shbin" -c "$@" ;;
      *) "$shbin" -c "$@" ;;
    esac
  }
  for i in 1 2 3; do   # the first asks strata and caches; the others replay the entry
    out=$(a_with "printf %s \"\$${check%%=*}\"" 2>/dev/null)
    [[ $out == "${check#*=}" ]] || r_fail "$sh -c does not see ${check%%=*} through the env file (got '$out')"
  done
  out=$(a_bare "printf %s \"\$${check%%=*}\"" 2>/dev/null)
  [[ -z $out ]] || r_fail "the bare $sh reads the env file too"
  for ((i = 0; i < n; i++)); do
    t0=${EPOCHREALTIME//[.,]/}
    a_bare true >/dev/null 2>&1
    t1=${EPOCHREALTIME//[.,]/}
    bare=$((bare + t1 - t0))
    a_with true >/dev/null 2>&1
    t0=${EPOCHREALTIME//[.,]/}
    with=$((with + t0 - t1))
  done
  printf 'OK %s %s %s\n' "$with" "$n" "$bare"
}

if [[ ${1-} == __run ]]; then
  shift
  m=$1; shift
  case $m in
    proc) r_proc "$@" ;;
    hook) r_hook "$@" ;;
    shprompt) r_shprompt "$@" ;;
    agent) r_agent "$@" ;;
    *) r_fail "unknown runner mode $m" ;;
  esac
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# The driver.
# ---------------------------------------------------------------------------------------------
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(dirname "$(dirname "$SELF")")
BASH_BIN=$(command -v bash)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/strata-bench

QUICK=0 ROUNDS='' BUILD=1 STRATA='' WORKDIR='' KEEP=0 NO_PEERS=0 ONLY=peers,prompts,scale,agent
VARIANTS=()   # names of other strata binaries measured alongside (A/B runs), in VARIANT_BIN
declare -A VARIANT_BIN=()
usage() {
  sed -n '2,13p' "$SELF" | sed 's/^# \{0,1\}//'
}
add_variant() { # add_variant NAME=PATH
  local name=${1%%=*} path=${1#*=}
  [[ $1 == *=* && $name =~ ^[A-Za-z0-9._-]+$ && -n $path ]] ||
    { echo "run.sh: --variant wants NAME=PATH (NAME of letters, digits, . _ -)" >&2; exit 2; }
  [[ -x $path ]] || { echo "run.sh: --variant $name: $path is not an executable" >&2; exit 2; }
  VARIANTS+=("$name"); VARIANT_BIN[$name]=$(readlink -f "$path")
}
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS=${2:?--rounds needs a number}; shift ;;
    --rounds=*) ROUNDS=${1#*=} ;;
    --no-build) BUILD=0 ;;
    --strata) STRATA=${2:?--strata needs a path}; BUILD=0; shift ;;
    --variant) add_variant "${2:?--variant needs NAME=PATH}"; shift ;;
    --variant=*) add_variant "${1#*=}" ;;
    --workdir) WORKDIR=${2:?--workdir needs a directory}; shift ;;
    --keep) KEEP=1 ;;
    --no-peers) NO_PEERS=1 ;;
    --only) ONLY=${2:?--only needs a list}; shift ;;
    --only=*) ONLY=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z $ROUNDS ]]; then
  if [[ $QUICK -eq 1 ]]; then ROUNDS=3; else ROUNDS=10; fi
fi
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --rounds wants a positive integer" >&2; exit 2; }
want() { [[ ,$ONLY, == *,$1,* ]]; }   # want GROUP: whether --only keeps that group of cases
for g in ${ONLY//,/ }; do
  case $g in peers | prompts | scale | agent) ;; *) echo "run.sh: --only knows peers, prompts, scale, agent; not '$g'" >&2; exit 2 ;; esac
done
if [[ $QUICK -eq 1 ]]; then
  TARGET_US=60000 HOOK_MAX=1000 PROC_MAX=100 RSS_RUNS=3
else
  TARGET_US=250000 HOOK_MAX=5000 PROC_MAX=400 RSS_RUNS=5
fi
CALL_TIMEOUT=120

say() { printf '%s\n' "$*" >&2; }
step() { printf '\n== %s\n' "$*" >&2; }

# ---------------------------------------------------------------- prerequisites
step "prerequisites"
apt_missing=()
command -v direnv >/dev/null || apt_missing+=(direnv)
[[ -x /usr/bin/time ]] || apt_missing+=(time)
command -v valgrind >/dev/null || apt_missing+=(valgrind)
if [[ ${#apt_missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "installing ${apt_missing[*]} (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >&2 ||
      { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >&2; } ||
      say "apt-get failed; going on without ${apt_missing[*]}"
  else
    say "missing ${apt_missing[*]}; install them (Debian: apt-get install ${apt_missing[*]}); going on without"
  fi
fi

declare -A BIN=() NA=()
BIN[true]=/bin/true

DIRENV=$(command -v direnv || true)
if [[ -n $DIRENV ]]; then BIN[direnv]=$DIRENV; else NA[direnv]="not installed"; fi

MISE=$CACHE/package/bin/mise
if [[ ! -x $MISE ]]; then
  if command -v npm >/dev/null; then
    say "fetching mise's release binary: npm pack @jdxcode/mise-linux-x64 into $CACHE"
    mkdir -p "$CACHE"
    if tgz=$(cd "$CACHE" && npm pack --silent @jdxcode/mise-linux-x64 2>/dev/null | tail -n 1) &&
      [[ -n $tgz ]] && tar -xzf "$CACHE/$tgz" -C "$CACHE"; then
      rm -f "$CACHE/$tgz"
    else
      say "npm pack failed"
    fi
  else
    say "npm not found: cannot fetch mise"
  fi
fi
if [[ -x $MISE ]]; then BIN[mise]=$MISE; else NA[mise]="not installable (npm)"; fi

for v in "${VARIANTS[@]}"; do BIN[strata+$v]=${VARIANT_BIN[$v]}; done

if SHADOWENV=$(command -v shadowenv); then BIN[shadowenv]=$SHADOWENV; else NA[shadowenv]="skipped (not on PATH)"; fi
if [[ $NO_PEERS -eq 1 ]]; then
  for t in direnv mise shadowenv; do unset "BIN[$t]"; NA[$t]="not measured (--no-peers)"; done
fi

HAVE_TIME=0; [[ -x /usr/bin/time ]] && HAVE_TIME=1
HAVE_VG=0; command -v valgrind >/dev/null && HAVE_VG=1

# The floor: an empty program built as strata's static build is, started where the export
# no-op starts. What the no-op costs above it is strata's own work.
FLOOR=$CACHE/floor-static
if [[ ! -x $FLOOR ]] && rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
  mkdir -p "$CACHE"
  echo 'fn main() {}' >"$CACHE/floor.rs"
  rustc -O --target x86_64-unknown-linux-musl -C relocation-model=static -C panic=abort \
    "$CACHE/floor.rs" -o "$FLOOR" >&2 || say "could not build the floor program"
fi
[[ -x $FLOOR ]] || FLOOR=

# ---------------------------------------------------------------- build strata
step "strata"
if [[ $BUILD -eq 1 ]]; then
  # The binary the README's install command makes, installed into a root of the benchmark's own.
  root=$REPO/target/bench-install
  say "building as the README does: CARGO_INSTALL_ROOT=$root sh shell/install.sh --force"
  if (CARGO_INSTALL_ROOT=$root PATH=$root/bin:$PATH nice -n 10 sh "$REPO/shell/install.sh" --force --quiet) >&2; then
    STRATA=$root/bin/strata
  else
    NA[strata]="failed (build)"
  fi
fi
if [[ $BUILD -eq 0 && -z $STRATA ]]; then   # --no-build: the release binary already built
  for STRATA in "$REPO/target/bench-install/bin/strata" "$REPO/target/release/strata"; do
    [[ -x $STRATA ]] && break
  done
fi
if [[ -z ${NA[strata]-} ]]; then
  if [[ -n $STRATA && -x $STRATA ]]; then
    STRATA=$(readlink -f "$STRATA"); BIN[strata]=$STRATA
    say "binary: $STRATA ($(stat -c %s "$STRATA") bytes; $(file -b "$STRATA" 2>/dev/null | cut -d, -f1-2 || true))"
  else
    NA[strata]="failed (no binary)"
  fi
fi

# ---------------------------------------------------------------- work dir and isolation
# Not under /tmp: mise compares the mtime of every directory above the cwd, and other processes
# create files in /tmp all the time, which would force mise into a full reload.
if [[ -z $WORKDIR ]]; then
  base=/var/tmp/strata-bench
  mkdir -p "$base" 2>/dev/null && [[ -w $base ]] || base=$CACHE
  mkdir -p "$base"
  WORKDIR=$(mktemp -d "$base/run.XXXXXX")
else
  mkdir -p "$WORKDIR"; WORKDIR=$(readlink -f "$WORKDIR")
fi
T=$WORKDIR
cleanup() {
  if [[ $KEEP -eq 1 ]]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
mkdir -p "$T/tmp" "$T/out" "$T/logs" "$T/home"
export TMPDIR=$T/tmp
RES=$T/out/results.tsv
: >"$RES"
say "work dir: $T"

LOCALE=C.UTF-8
locales=$(locale -a 2>/dev/null || true)
grep -qix 'c.utf-\?8' <<<"$locales" || LOCALE=C
USERNAME=$(id -un)
export LC_ALL=$LOCALE   # the report pads by characters (×, µ, —)

# tool_env NAME [PATHDIR]: the isolated environment of one tool, in TENV
declare -a TENV=()
tool_env() {
  local h=$T/home/$1 p=/usr/local/bin:/usr/bin:/bin
  [[ -n ${2-} ]] && p=$2:$p
  mkdir -p "$h/.config" "$h/.local/share" "$h/.local/state" "$h/.cache" "$h/strata/config" \
    "$h/strata/state" "$h/strata/data"
  chmod 700 "$h" "$h/strata" "$h/strata/config" "$h/strata/state" "$h/strata/data"
  TENV=(HOME="$h" USER="$USERNAME" LOGNAME="$USERNAME" SHELL="$BASH_BIN" TERM=dumb LANG="$LOCALE"
    PATH="$p" TMPDIR="$T/tmp"
    XDG_CONFIG_HOME="$h/.config" XDG_DATA_HOME="$h/.local/share" XDG_STATE_HOME="$h/.local/state"
    XDG_CACHE_HOME="$h/.cache" XDG_RUNTIME_DIR="$h/.cache"
    STRATA_CONFIG_DIR="$h/strata/config" STRATA_STATE_DIR="$h/strata/state"
    STRATA_DATA_DIR="$h/strata/data")
}
declare -A ENVS=()   # tool -> its TENV, NUL-free, one assignment per line
env_for() { # env_for KEY TOOLHOME [PATHDIR]
  tool_env "$2" "${3-}"
  ENVS[$1]=$(printf '%s\n' "${TENV[@]}")
}
# in_env KEY CMD...: run CMD with exactly that environment
in_env() {
  local key=$1; shift
  local -a e
  mapfile -t e <<<"${ENVS[$key]}"
  env -i "${e[@]}" "$@"
}

env_for true true
[[ -n ${BIN[strata]-} ]] && env_for strata strata "$(dirname "${BIN[strata]}")"
for v in "${VARIANTS[@]}"; do env_for "strata+$v" "strata+$v" "$(dirname "${BIN[strata+$v]}")"; done
[[ -n ${BIN[direnv]-} ]] && env_for direnv direnv
[[ -n ${BIN[mise]-} ]] && env_for mise mise "$(dirname "${BIN[mise]}")"
[[ -n ${BIN[shadowenv]-} ]] && env_for shadowenv shadowenv "$(dirname "${BIN[shadowenv]}")"
# mise never takes its no-op fast path without this directory
mkdir -p "$T/home/mise/.local/share/mise"

# ---------------------------------------------------------------- fixtures
step "fixtures"
DEPTH=20
ROOT_OF() { printf '%s/fx-%s/src' "$T" "$1"; }   # fixtures: $T/fx-TOOL/src/l0/l1/.../l19
leaf() { # leaf TOOL DEPTH
  local d i
  d=$(ROOT_OF "$1")
  for ((i = 0; i < $2; i++)); do d+=/l$i; done
  printf '%s' "$d"
}

write_dotenv() { # write_dotenv FILE N PREFIX
  local i
  for ((i = 1; i <= $2; i++)); do printf '%s%03d="dotenv value %03d"\n' "$3" "$i" "$i"; done >"$1"
}

mk_tree() { # mk_tree TOOL
  local tool=$1 dir i j top
  dir=$(ROOT_OF "$tool"); top=$dir/l0
  for ((i = 0; i < DEPTH; i++)); do
    dir+=/l$i
    mkdir -p "$dir"
    case $tool in
      strata | strata+*)
        {
          echo "[env]"
          for ((j = 1; j <= 7; j++)); do echo "L${i}_V$j = \"level $i value $j\""; done
          if [[ $i -eq 0 ]]; then
            printf '\n[path]\nprepend = ["bin"]\n\n[dotenv]\nfiles = [".env"]\n'
          fi
        } >"$dir/.strata.toml"
        ;;
      direnv)
        {
          if [[ $i -eq 0 ]]; then printf 'dotenv\nPATH_add bin\n'; else echo "source_up_if_exists"; fi
          for ((j = 1; j <= 7; j++)); do echo "export L${i}_V$j=\"level $i value $j\""; done
        } >"$dir/.envrc"
        ;;
      mise)
        {
          echo "[env]"
          [[ $i -eq 0 ]] && printf '_.path = ["bin"]\n_.file = ".env"\n'
          for ((j = 1; j <= 7; j++)); do echo "L${i}_V$j = \"level $i value $j\""; done
        } >"$dir/mise.toml"
        ;;
      shadowenv)
        mkdir -p "$dir/.shadowenv.d"
        {
          for ((j = 1; j <= 7; j++)); do echo "(env/set \"L${i}_V$j\" \"level $i value $j\")"; done
          if [[ $i -eq 0 ]]; then
            echo "(env/prepend-to-pathlist \"PATH\" \"$top/bin\")"
            for ((j = 1; j <= 100; j++)); do printf '(env/set "DOTENV_%03d" "dotenv value %03d")\n' "$j" "$j"; done
          fi
        } >"$dir/.shadowenv.d/000_env.lisp"
        [[ $i -gt 0 ]] && ln -s ../../.shadowenv.d "$dir/.shadowenv.d/parent"
        ;;
    esac
    if [[ $i -eq 0 ]]; then
      mkdir -p "$dir/bin"
      [[ $tool == shadowenv ]] || write_dotenv "$dir/.env" 100 DOTENV_
    fi
  done
}

trust_tree() { # trust_tree TOOL: allow every level's file; prints the first failure
  local tool=$1 dir i rc=0 f
  dir=$(ROOT_OF "$tool")
  for ((i = 0; i < DEPTH; i++)); do
    dir+=/l$i
    case $tool in
      strata | strata+*) f=$dir/.strata.toml; (cd "$dir" && in_env "$tool" timeout 20 "${BIN[$tool]}" allow "$f") ;;
      direnv) f=$dir/.envrc; (cd "$dir" && in_env direnv timeout 20 "${BIN[direnv]}" allow "$f") ;;
      mise) f=$dir/mise.toml; (cd "$dir" && in_env mise timeout 20 "${BIN[mise]}" trust "$f") ;;
      shadowenv) f=$dir; (cd "$dir" && in_env shadowenv timeout 20 "${BIN[shadowenv]}" trust) ;;
    esac >>"$T/logs/trust-$tool.log" 2>&1 || { rc=1; echo "trust failed for $f"; break; }
  done
  return $rc
}

PEERS=(strata direnv mise shadowenv)
for v in "${VARIANTS[@]}"; do PEERS+=("strata+$v"); done
TOOLS=()
for tool in "${PEERS[@]}"; do
  [[ -n ${BIN[$tool]-} ]] || continue
  mk_tree "$tool"
  if ! msg=$(trust_tree "$tool"); then
    say "$tool: $msg (see $T/logs/trust-$tool.log); measuring anyway"
  fi
  TOOLS+=("$tool")
done
say "tools: ${TOOLS[*]:-none}"

# strata's scale fixtures
SCALE=()          # names of the scale cases that exist
declare -A SC_N=() SC_DIR=() SC_KIND=() SC_LABEL=() SC_UNIT=() SC_CHECK=()
scale_add() { # scale_add NAME KIND N DIR LABEL UNIT [CHECK: var:NAME=VALUE, what a load must set]
  SCALE+=("$1"); SC_KIND[$1]=$2; SC_N[$1]=$3; SC_DIR[$1]=$4; SC_LABEL[$1]=$5; SC_UNIT[$1]=$6
  SC_CHECK[$1]=${7:-0}
}
CTX_STATUS="n/a (not implemented)" SESS_STATUS="n/a (not implemented)"
if [[ -n ${BIN[strata]-} ]]; then
  S=$T/fx-strata/scale
  mkdir -p "$S/base"
  printf '[env]\nSCALE_BASE = "1"\n' >"$S/base/.strata.toml"
  in_env strata timeout 20 "${BIN[strata]}" allow "$S/base/.strata.toml" >>"$T/logs/trust-strata.log" 2>&1 || true
  scale_add base load 0 "$S/base" "load, one file with 1 variable" - var:SCALE_BASE=1
  for n in 1000 10000; do
    mkdir -p "$S/dotenv-$n"
    printf '[dotenv]\nfiles = [".env"]\n' >"$S/dotenv-$n/.strata.toml"
    write_dotenv "$S/dotenv-$n/.env" "$n" SCALE_D
    in_env strata timeout 20 "${BIN[strata]}" allow "$S/dotenv-$n/.strata.toml" >>"$T/logs/trust-strata.log" 2>&1 || true
    scale_add "dotenv-$n" load "$n" "$S/dotenv-$n" "load, $n-line .env" line "var:SCALE_D$n=dotenv value $n"
  done
  for n in 1000 10000; do
    mkdir -p "$S/vars-$n"
    { echo "[env]"; for ((i = 1; i <= n; i++)); do printf 'SCALE_V%05d = "value %d"\n' "$i" "$i"; done; } \
      >"$S/vars-$n/.strata.toml"
    in_env strata timeout 20 "${BIN[strata]}" allow "$S/vars-$n/.strata.toml" >>"$T/logs/trust-strata.log" 2>&1 || true
    scale_add "vars-$n" load "$n" "$S/vars-$n" "load, $n variables in one file" var \
      "var:SCALE_V$(printf %05d "$n")=value $n"
  done
  mkdir -p "$S/path/bin"
  printf '[env]\nSCALE_P = "1"\n\n[path]\nprepend = ["bin"]\n' >"$S/path/.strata.toml"
  in_env strata timeout 20 "${BIN[strata]}" allow "$S/path/.strata.toml" >>"$T/logs/trust-strata.log" 2>&1 || true
  for kib in 10 100; do
    p="" n=0
    while [[ ${#p} -lt $((kib * 1024 - 40)) ]]; do n=$((n + 1)); printf -v e '/opt/strata-bench/p%05d/bin:' "$n"; p+=$e; done
    p+=$(dirname "${BIN[strata]}"):/usr/local/bin:/usr/bin:/bin
    n=$((n + 4))
    env_for "strata-path$kib" strata "$(dirname "${BIN[strata]}")"
    ENVS[strata-path$kib]+=$'\n'"PATH=$p"   # env(1) applies the later PATH=
    scale_add "path-$kib" load "$n" "$S/path" "load, ${kib} KiB PATH ($n entries)" entry var:SCALE_P=1
  done
  # contexts and sessions: only when the subcommands exist
  if in_env strata timeout 20 "${BIN[strata]}" context --help >/dev/null 2>&1; then
    CTX_STATUS=ok
    for n in 0 100 1000; do
      env_for "strata-ctx$n" "strata-ctx$n" "$(dirname "${BIN[strata]}")"
      for ((i = 1; i <= n; i++)); do
        if ! in_env "strata-ctx$n" timeout 20 "${BIN[strata]}" context create "c$i" --set "K=v$i" \
          >>"$T/logs/setup-ctx.log" 2>&1; then
          CTX_STATUS="failed (context create)"; break 2
        fi
      done
      out=$(in_env "strata-ctx$n" timeout 20 "${BIN[strata]}" context list 2>/dev/null || true)
      if [[ $n -gt 0 ]] && ! grep -qw "c$n" <<<"$out"; then
        CTX_STATUS="failed (context list does not list the contexts created)"; break
      fi
      scale_add "ctx-$n" ctxlist "$n" "$T" "context list, $n contexts" context
    done
  fi
  if in_env strata timeout 20 "${BIN[strata]}" session --help >/dev/null 2>&1; then
    SESS_STATUS=ok
    for n in 0 100 1000; do
      env_for "strata-sess$n" "strata-sess$n" "$(dirname "${BIN[strata]}")"
      for ((i = 1; i <= n; i++)); do
        if ! in_env "strata-sess$n" STRATA_SESSION="s$i" timeout 20 "${BIN[strata]}" set "K=v$i" \
          >>"$T/logs/setup-sess.log" 2>&1; then
          SESS_STATUS="failed (strata set)"; break 2
        fi
      done
      out=$(in_env "strata-sess$n" timeout 20 "${BIN[strata]}" session list 2>/dev/null || true)
      if [[ $n -gt 0 ]] && ! grep -qw "s$n" <<<"$out"; then
        SESS_STATUS="failed (session list does not list the sessions created)"; break
      fi
      scale_add "sess-$n" gc "$n" "$T" "session gc, $n sessions" session
    done
  fi
fi

# drop the context/session cases when their setup failed
if [[ $CTX_STATUS != ok || $SESS_STATUS != ok ]]; then
  kept=()
  for s in "${SCALE[@]}"; do
    [[ $s == ctx-* && $CTX_STATUS != ok ]] && continue
    [[ $s == sess-* && $SESS_STATUS != ok ]] && continue
    kept+=("$s")
  done
  SCALE=("${kept[@]}")
fi

# ---------------------------------------------------------------- measuring
declare -A NCAL=() FAIL=() NOOP_BYTES=()
RUN_LINE="" LAST_US=

# invoke KEY DIR RUNNER-ARGS...: run the runner in KEY's environment, cwd DIR; sets RUN_LINE
invoke() {
  local key=$1 dir=$2; shift 2
  RUN_LINE=$(cd "$dir" && in_env "$key" timeout "$CALL_TIMEOUT" "$BASH_BIN" --norc --noprofile \
    "$SELF" __run "$@" 2>>"$T/logs/run-$key.log") || true
  [[ -n $RUN_LINE ]] || RUN_LINE="FAIL no output (crashed or timed out; see logs/run-$key.log)"
}

record() { # record CASE TOOL ROUND: parse RUN_LINE (OK total n extra); returns 1 on failure
  local c=$1 t=$2 r=$3 st total n extra
  read -r st total n extra <<<"$RUN_LINE"
  if [[ $st != OK ]]; then
    [[ -n ${FAIL[$c/$t]-} ]] || FAIL[$c/$t]=${RUN_LINE#FAIL }
    return 1
  fi
  LAST_US=$((total / n))
  if [[ $r != calib ]]; then
    awk -v r="$r" -v c="$c" -v t="$t" -v us="$total" -v n="$n" \
      'BEGIN { printf "%s\t%s\t%s\t%.6f\n", r, c, t, us / n / 1000 }' >>"$RES"
  fi
  return 0
}

n_for() { # n_for CASE TOOL MAX: calls per measurement, from the calibration pass
  local v=${NCAL[$1/$2]-}
  if [[ -z $v ]]; then echo 3; else echo "$v"; fi
}
calibrate() { # calibrate CASE TOOL PER_CALL_US MAX
  local n=$((TARGET_US / ($3 > 0 ? $3 : 1)))
  ((n < 3)) && n=3
  ((n > $4)) && n=$4
  NCAL[$1/$2]=$n
}

# one measurement; ROUND "calib" calibrates instead of recording
measure() { # measure ROUND CASE TOOL
  local r=$1 c=$2 t=$3 n max d depth=3 key=$3
  [[ -z ${FAIL[$c/$t]-} ]] || return 0   # a failed case is not retried
  case $c in
    prompt)
      max=$HOOK_MAX; n=5; [[ $r != calib ]] && n=$(n_for "$c" "$t")
      d=$(leaf "$t" 3)
      local ntrue
      ntrue=$(n_for spawn true); ((ntrue > n)) && ntrue=$n
      invoke "$t" "$d" hook "$t" "${BIN[$t]}" "$d" "$n" 3 "$(ROOT_OF "$t")/l0" "$ntrue"
      if record "$c" "$t" "$r" && [[ $r != calib ]]; then
        local -a fld; read -ra fld <<<"$RUN_LINE"
        RUN_LINE="OK ${fld[3]} ${fld[2]} -"; record prompt-true "$t" "$r" || true
      fi
      ;;
    prompt:*)
      # The idle prompt in another shell (bash is the prompt case): runner shprompt.
      local sh=${c#prompt:} ntrue
      max=$HOOK_MAX; n=5; [[ $r != calib ]] && n=$(n_for "$c" "$t")
      d=$(leaf "$t" 3)
      ntrue=$(n_for spawn true); ((ntrue > n)) && ntrue=$n
      invoke "$t" "$d" shprompt "$sh" "${BIN[$t]}" "$d" "$n" "$ntrue"
      if record "$c" "$t" "$r" && [[ $r != calib ]]; then
        local -a fp; read -ra fp <<<"$RUN_LINE"
        RUN_LINE="OK ${fp[3]} ${fp[2]} -"; record "prompt-true:$sh" "$t" "$r" || true
      fi
      ;;
    spawn)
      max=$PROC_MAX; n=3; [[ $r != calib ]] && n=$(n_for "$c" "$t")
      invoke true "$T" proc true /bin/true "$T" "$n" plain 0 -
      record "$c" "$t" "$r" || true
      ;;
    noop | floor | load1 | load3 | load20)
      max=$PROC_MAX; n=2; [[ $r != calib ]] && n=$(n_for "$c" "$t")
      local mode=load
      case $c in noop) mode=noop ;; floor) mode=floor=$FLOOR ;; load1) depth=1 ;; load20) depth=20 ;; esac
      d=$(leaf "$t" "$depth")
      invoke "$t" "$d" proc "$t" "${BIN[$t]}" "$d" "$n" "$mode" "$depth" "$(ROOT_OF "$t")/l0"
      if record "$c" "$t" "$r" && [[ $c == noop ]]; then
        NOOP_BYTES[$t]=${RUN_LINE##* }
      fi
      ;;
    agent:* | agent1:*)
      # The agent path: a fresh `SHELL -c true` with strata's env file, against one without it;
      # agent: in the depth-3 leaf (122 variables), agent1: the scale base (one file, one variable).
      local sh=${c#*:} kind=${c%%:*} check="L0_V1=level 0 value 1"
      max=$PROC_MAX; n=3; [[ $r != calib ]] && n=$(n_for "$c" "$t")
      d=$(leaf "$t" 3)
      [[ $kind == agent1 ]] && d=${SC_DIR[base]} check="SCALE_BASE=1"
      invoke "$t" "$d" agent "$sh" "${BIN[$t]}" "$d" "$n" "$check"
      if record "$c" "$t" "$r" && [[ $r != calib ]]; then
        local -a fa; read -ra fa <<<"$RUN_LINE"
        RUN_LINE="OK ${fa[3]} ${fa[2]} -"; record "$kind-bare:$sh" "$t" "$r" || true
      fi
      ;;
    scale:*)
      local s=${c#scale:} tool=strata mode=load
      max=$PROC_MAX; n=2; [[ $r != calib ]] && n=$(n_for "$c" "$t")
      key=strata
      case ${SC_KIND[$s]} in
        ctxlist) tool=strata-ctxlist mode=plain key=strata-ctx${SC_N[$s]} ;;
        gc) tool=strata-gc mode=plain key=strata-sess${SC_N[$s]} ;;
      esac
      [[ $s == path-* ]] && key=strata-${s/-/}
      invoke "$key" "${SC_DIR[$s]}" proc "$tool" "${BIN[strata]}" "${SC_DIR[$s]}" "$n" "$mode" "${SC_CHECK[$s]}" -
      record "$c" "$t" "$r" || true
      ;;
  esac
  if [[ $r == calib && -z ${FAIL[$c/$t]-} && -n ${LAST_US-} ]]; then
    calibrate "$c" "$t" "$LAST_US" "$max"
  fi
  LAST_US=
}

CASES=(prompt noop load1 load3 load20)
AGENT_SHELLS=()   # the shells the agent path is measured in: those installed
for s in bash zsh fish; do command -v "$s" >/dev/null && AGENT_SHELLS+=("$s"); done
PROMPT_SHELLS=(zsh fish nu elvish xonsh tcsh)   # strata's idle prompt in each (bash: CASES' prompt)
declare -A PROMPT_HOW=(
  [bash]="PROMPT_COMMAND entries, eval'd"
  [zsh]="precmd_functions"
  [fish]="emit fish_prompt"
  [nu]="hooks.pre_prompt closures"
  [elvish]="after-chdir hooks; runs strata"
  [xonsh]="events.on_pre_prompt.fire()"
  [tcsh]="the precmd alias"
)
one_round() { # one_round ROUND
  local r=$1 k c t
  local -a order=()
  # rotate the tools' order from round to round
  k=0; [[ $r != calib ]] && k=$((r % (${#TOOLS[@]} > 0 ? ${#TOOLS[@]} : 1)))
  order=("${TOOLS[@]:k}" "${TOOLS[@]:0:k}")
  measure "$r" spawn true
  if want peers; then
    for c in "${CASES[@]}"; do
      for t in "${order[@]}"; do measure "$r" "$c" "$t"; done
    done
  elif want prompts; then
    for t in "${order[@]}"; do [[ $t == strata* ]] && measure "$r" prompt "$t"; done
  fi
  if [[ -n ${BIN[strata]-} ]]; then
    if want prompts; then
      for s in "${PROMPT_SHELLS[@]}"; do
        for t in "${order[@]}"; do [[ $t == strata* ]] && measure "$r" "prompt:$s" "$t"; done
      done
    fi
    want peers && [[ -n $FLOOR ]] && measure "$r" floor strata
    if want scale; then
      for s in "${SCALE[@]}"; do measure "$r" "scale:$s" strata; done
    fi
    if want agent; then
      for s in "${AGENT_SHELLS[@]}"; do
        measure "$r" "agent:$s" strata
        [[ -n ${SC_DIR[base]-} ]] && measure "$r" "agent1:$s" strata
      done
    fi
  fi
  measure "$r" spawn true
}

step "calibrating (one warm-up pass)"
one_round calib
for ((round = 1; round <= ROUNDS; round++)); do
  step "round $round of $ROUNDS"
  one_round "$round"
done

# ---------------------------------------------------------------- peak RSS and instructions
declare -A RSS_KB=() IR=()
median_of() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if [[ $HAVE_TIME -eq 1 ]] && want peers; then
  step "peak RSS (GNU time -f %M, median of $RSS_RUNS)"
  specs=("true plain")
  [[ -n ${BIN[strata]-} ]] && specs+=("strata noop")
  for v in "${VARIANTS[@]}"; do specs+=("strata+$v noop"); done
  for t in "${TOOLS[@]}"; do specs+=("$t load"); done
  for spec in "${specs[@]}"; do
    read -r t mode <<<"$spec"
    f=$T/out/rss-$t-$mode.txt; : >"$f"
    d=$T depth=0
    [[ $t != true ]] && d=$(leaf "$t" 3) depth=3
    invoke "$t" "$d" proc "$t" "${BIN[$t]}" "$d" "$RSS_RUNS" "$mode" "$depth" "$(ROOT_OF "$t")/l0" \
      /usr/bin/time -f %M -a -o "$f"
    if [[ $RUN_LINE == OK* ]]; then RSS_KB[$t/$mode]=$(median_of <"$f"); else FAIL[rss-$mode/$t]=${RUN_LINE#FAIL }; fi
  done
fi

if [[ $HAVE_VG -eq 1 ]] && want peers; then
  step "instruction counts (valgrind --tool=callgrind)"
  specs=("true plain" "strata noop" "strata load")
  for v in "${VARIANTS[@]}"; do specs+=("strata+$v noop" "strata+$v load"); done
  specs+=("mise noop" "mise load" "shadowenv noop" "shadowenv load")
  for spec in "${specs[@]}"; do
    read -r t mode <<<"$spec"
    [[ $t == true || -n ${BIN[$t]-} ]] || continue
    if [[ -n ${FAIL[load3/$t]-} ]]; then FAIL[ir-$mode/$t]="skipped: load failed"; continue; fi
    d=$T; depth=0
    [[ $t != true ]] && d=$(leaf "$t" 3) depth=3
    f=$T/out/callgrind-$t-$mode.out
    invoke "$t" "$d" proc "$t" "${BIN[$t]}" "$d" 1 "$mode" "$depth" "$(ROOT_OF "$t")/l0" \
      valgrind --tool=callgrind --callgrind-out-file="$f"
    ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$f" 2>/dev/null || true)
    if [[ $RUN_LINE == OK* && -n $ir ]]; then IR[$t/$mode]=$ir; else FAIL[ir-$mode/$t]=${RUN_LINE#FAIL }; fi
  done
fi

# ---------------------------------------------------------------- report
med() { # med CASE TOOL -> median ms, or nothing
  awk -F'\t' -v c="$1" -v t="$2" '$2 == c && $3 == t { print $4 }' "$RES" | median_of
}
fmt_ms() { awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else if (v >= 1) printf "%.2f", v; else printf "%.3f", v }'; }
fmt_x() { # ratio a/b
  awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "?"; exit } r = a / b;
    if (r >= 10) printf "%.0f×", r; else if (r >= 0.1) printf "%.2f×", r; else printf "%.3f×", r }'
}
pad() { # pad TEXT WIDTH: left-aligned, by characters
  local s=$1
  printf '%s%*s' "$s" $(($2 > ${#s} ? $2 - ${#s} : 0)) ''
}
fmt_count() { awk -v v="$1" 'BEGIN { if (v >= 1e6) printf "%.2fM", v / 1e6; else if (v >= 1e3) printf "%.0fk", v / 1e3; else print v }'; }

status_of() { # status_of CASE TOOL: why there is no figure
  local t=$2
  if [[ -n ${NA[$t]-} ]]; then echo "${NA[$t]}"; return; fi
  if [[ -n ${FAIL[$1/$t]-} ]]; then echo "failed"; return; fi
  echo "n/a"
}

CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
MACHINE="$(nproc) cores, ${CPU:-unknown CPU}, $(uname -sr)"
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
ver() { "$@" 2>/dev/null | head -n 1 || true; }
declare -A VER=([true]="" [strata]="" [direnv]="" [mise]="" [shadowenv]="")
[[ -n ${BIN[strata]-} ]] && VER[strata]=$(ver in_env strata "${BIN[strata]}" --version)
[[ -n ${BIN[direnv]-} ]] && VER[direnv]=$(ver in_env direnv "${BIN[direnv]}" version)
[[ -n ${BIN[mise]-} ]] && VER[mise]=$(ver in_env mise "${BIN[mise]}" --version)
[[ -n ${BIN[shadowenv]-} ]] && VER[shadowenv]=$(ver in_env shadowenv "${BIN[shadowenv]}" --version)

COLS=(true strata direnv mise shadowenv)
declare -A LABEL=(
  [prompt]="no-op prompt, hook incl. eval (d3)"
  [noop]="export no-op, one process (d3)"
  [load1]="load depth 1"
  [load3]="load depth 3 + 100-line .env"
  [load20]="load depth 20"
)
SPAWN_MS=$(med spawn true)
PROMPT_TRUE_MS=$(awk -F'\t' '$2 == "prompt-true" { print $4 }' "$RES" | median_of)
[[ -n $PROMPT_TRUE_MS ]] || PROMPT_TRUE_MS=$SPAWN_MS

declare -A CELL=() MD=()   # CELL[row/tool] text for the terminal; MD[row/tool] for markdown
for c in "${CASES[@]}"; do
  base=$SPAWN_MS; [[ $c == prompt ]] && base=$PROMPT_TRUE_MS
  if [[ -n $base ]]; then CELL[$c/true]="$(fmt_ms "$base") ms"; MD[$c/true]="$(fmt_ms "$base") ms"; fi
  for t in strata direnv mise shadowenv; do
    m=$(med "$c" "$t")
    if [[ -n $m && -n $base ]]; then
      CELL[$c/$t]="$(fmt_ms "$m") ms $(fmt_x "$m" "$base")"
      MD[$c/$t]=$(fmt_x "$m" "$base")
      [[ $c == noop && ${NOOP_BYTES[$t]-0} != 0 ]] && CELL[$c/$t]+=" (prints ${NOOP_BYTES[$t]} B)"
    else
      CELL[$c/$t]=$(status_of "$c" "$t"); MD[$c/$t]=—
    fi
  done
done
for t in "${COLS[@]}"; do
  mode=load; [[ $t == true ]] && mode=plain
  if [[ -n ${RSS_KB[$t/$mode]-} ]]; then
    CELL[rss/$t]=$(awk -v k="${RSS_KB[$t/$mode]}" 'BEGIN { printf "%.1f MB", k / 1024 }'); MD[rss/$t]=${CELL[rss/$t]}
  else
    CELL[rss/$t]=$( [[ $HAVE_TIME -eq 1 ]] && status_of rss-$mode "$t" || echo "n/a (no GNU time)"); MD[rss/$t]=—
  fi
  if [[ -n ${IR[$t/$mode]-} ]]; then
    CELL[ir/$t]=$(fmt_count "${IR[$t/$mode]}"); MD[ir/$t]=${CELL[ir/$t]}
  elif [[ $t == direnv ]]; then
    CELL[ir/$t]="n/a (Go)"; MD[ir/$t]=n/a
  else
    CELL[ir/$t]=$( [[ $HAVE_VG -eq 1 ]] && status_of ir-$mode "$t" || echo "n/a (no valgrind)"); MD[ir/$t]=—
  fi
done
if [[ -n ${IR[strata/noop]-} ]]; then CELL[irnoop/strata]=$(fmt_count "${IR[strata/noop]}"); MD[irnoop/strata]=${CELL[irnoop/strata]}; fi
if [[ -n ${IR[mise/noop]-} ]]; then CELL[irnoop/mise]=$(fmt_count "${IR[mise/noop]}"); MD[irnoop/mise]=${CELL[irnoop/mise]}; fi
if [[ -n ${IR[shadowenv/noop]-} ]]; then CELL[irnoop/shadowenv]=$(fmt_count "${IR[shadowenv/noop]}"); MD[irnoop/shadowenv]=${CELL[irnoop/shadowenv]}; fi
if [[ -n ${IR[true/plain]-} ]]; then CELL[irnoop/true]=${CELL[ir/true]}; MD[irnoop/true]=${MD[ir/true]}; fi
if [[ -n ${RSS_KB[strata/noop]-} ]]; then CELL[rssnoop/strata]=$(awk -v k="${RSS_KB[strata/noop]}" 'BEGIN { printf "%.1f MB", k / 1024 }'); fi
CELL[irnoop/direnv]="n/a (Go)" MD[irnoop/direnv]=n/a
LABEL[rss]="peak RSS, load d3"
LABEL[ir]="instructions, load d3"
LABEL[irnoop]="instructions, export no-op"

rounds_note="medians of $ROUNDS interleaved rounds"
[[ $QUICK -eq 1 ]] && rounds_note+=" (--quick)"
{
  echo
  echo "strata benchmark — $DATE — $MACHINE"
  echo "$rounds_note; ms per call and ratio to one /bin/true spawn timed the same way in the same run"
  for t in strata direnv mise shadowenv; do
    if [[ -n ${BIN[$t]-} ]]; then printf '  %-10s %s  %s\n' "$t" "${BIN[$t]}" "${VER[$t]}"; else printf '  %-10s %s\n' "$t" "${NA[$t]}"; fi
  done
  echo
  pad case 36; for t in "${COLS[@]}"; do if [[ $t == true ]]; then pad "  /bin/true" 13; else pad "  $t" 24; fi; done; echo
  for row in "${CASES[@]}" rss ir irnoop; do
    pad "${LABEL[$row]}" 36
    for t in "${COLS[@]}"; do
      if [[ $t == true ]]; then pad "  ${CELL[$row/$t]:-}" 13; else pad "  ${CELL[$row/$t]:-—}" 24; fi
    done
    echo
  done
  [[ -n ${CELL[rssnoop/strata]-} ]] && echo "(strata peak RSS on an export no-op: ${CELL[rssnoop/strata]})"
  fl=$(med floor strata); nm=$(med noop strata)
  if [[ -n $fl && -n $SPAWN_MS ]]; then
    echo "(floor: an empty static program started where the export no-op starts: $(fmt_ms "$fl") ms = $(fmt_x "$fl" "$SPAWN_MS") /bin/true${nm:+; the no-op is $(fmt_x "$nm" "$fl") the floor})"
  fi
  echo
  echo "strata vs each peer (peer ms / strata ms, same run):"
  for c in "${CASES[@]}"; do
    ms=$(med "$c" strata)
    line=""
    for t in direnv mise shadowenv; do
      m=$(med "$c" "$t")
      [[ -n $m && -n $ms ]] && line+="  $t/strata = $(fmt_x "$m" "$ms")"
    done
    printf '  %s%s\n' "$(pad "${LABEL[$c]}" 36)" "${line:-  n/a}"
  done
  if [[ ${#VARIANTS[@]} -gt 0 ]]; then
    echo
    echo "A/B: other strata builds against strata (${BIN[strata]-none}), same run;"
    echo "each cell: value, ratio to /bin/true (time rows), change against strata (variant / strata - 1):"
    ab_value() { # ab_value ROW TOOL: the raw figure of one A/B cell
      case $1 in
        rss) echo "${RSS_KB[$2/load]-}" ;;
        rssnoop) echo "${RSS_KB[$2/noop]-}" ;;
        ir) echo "${IR[$2/load]-}" ;;
        irnoop) echo "${IR[$2/noop]-}" ;;
        *) med "$1" "$2" ;;
      esac
    }
    ab_cell() { # ab_cell ROW TOOL [STRATA_VALUE]
      local v base=$SPAWN_MS
      v=$(ab_value "$1" "$2")
      [[ -n $v ]] || { echo "—"; return; }
      [[ $1 == prompt ]] && base=$PROMPT_TRUE_MS
      [[ $1 == prompt:* ]] && base=$(med "prompt-true:${1#prompt:}" "$2")
      case $1 in
        rss | rssnoop) awk -v k="$v" 'BEGIN { printf "%.2f MB", k / 1024 }' ;;
        ir | irnoop) fmt_count "$v" ;;
        *) printf '%s ms %s' "$(fmt_ms "$v")" "$(fmt_x "$v" "$base")" ;;
      esac
      [[ -n ${3-} ]] && awk -v a="$v" -v b="$3" 'BEGIN { if (b > 0) printf " %+.1f%%", (a / b - 1) * 100 }'
      return 0
    }
    LABEL[rssnoop]="peak RSS, export no-op"
    AB_ROWS=(noop load1 load3 load20 prompt)
    for sh in "${PROMPT_SHELLS[@]}"; do
      AB_ROWS+=("prompt:$sh"); LABEL[prompt:$sh]="idle prompt, $sh (d3)"
    done
    AB_ROWS+=(rss rssnoop ir irnoop)
    printf '  %s%s' "$(pad case 36)" "$(pad strata 22)"
    for v in "${VARIANTS[@]}"; do pad "$v" 30; done
    echo
    for row in "${AB_ROWS[@]}"; do
      printf '  %s%s' "$(pad "${LABEL[$row]}" 36)" "$(pad "$(ab_cell "$row" strata)" 22)"
      sv=$(ab_value "$row" strata)
      for v in "${VARIANTS[@]}"; do pad "$(ab_cell "$row" "strata+$v" "$sv")" 30; done
      echo
    done
    for v in "${VARIANTS[@]}"; do printf '  %-12s %s\n' "$v" "${BIN[strata+$v]}"; done
    echo
    echo "--- markdown (A/B, for bench/README.md) ---"
    echo
    printf '| case | strata |'; for v in "${VARIANTS[@]}"; do printf ' %s |' "$v"; done; echo
    printf '|---|---|'; for v in "${VARIANTS[@]}"; do printf -- '---|'; done; echo
    for row in "${AB_ROWS[@]}"; do
      sv=$(ab_value "$row" strata)
      printf '| %s | %s |' "${LABEL[$row]}" "$(ab_cell "$row" strata)"
      for v in "${VARIANTS[@]}"; do printf ' %s |' "$(ab_cell "$row" "strata+$v" "$sv")"; done
      echo
    done
  fi
  echo
  echo "issue 8 targets for strata (informative, this run):"
  target() { # target LABEL VALUE LIMIT(<=) SHOWN
    local verdict
    if [[ -z $2 ]]; then verdict="n/a"
    elif awk -v v="$2" -v l="$3" 'BEGIN { exit !(v <= l) }'; then verdict="met ($4)"
    else verdict="NOT met ($4)"; fi
    printf '  %s%s\n' "$(pad "$1" 44)" "$verdict"
  }
  ratio_of() { local a b; a=$(med "$1" "$2"); b=${3:-$SPAWN_MS}; [[ -n $a && -n $b ]] && awk -v a="$a" -v b="$b" 'BEGIN { print a / b }'; return 0; }
  r=$(ratio_of prompt strata "$PROMPT_TRUE_MS"); target "no-op prompt <= 0.05x /bin/true" "$r" 0.05 "${r:+$(fmt_x "$r" 1)}"
  r=$(ratio_of noop strata); target "export no-op <= 0.6x" "$r" 0.6 "${r:+$(fmt_x "$r" 1)}"
  r=$(ratio_of load3 strata); target "load depth 3 <= 1.0x" "$r" 1.0 "${r:+$(fmt_x "$r" 1)}"
  r=$(ratio_of load20 strata); target "load depth 20 <= 2x" "$r" 2 "${r:+$(fmt_x "$r" 1)}"
  k=${RSS_KB[strata/load]-}; target "peak RSS on load <= 2 MiB" "$k" 2048 "${k:+$(awk -v k="$k" 'BEGIN { printf "%.2f MiB", k / 1024 }')}"
  for pr in "direnv 50" "shadowenv 3"; do
    read -r t want <<<"$pr"
    a=$(med load3 strata); b=$(med load3 "$t"); r=""
    [[ -n $a && -n $b ]] && r=$(awk -v a="$a" -v b="$b" -v w="$want" 'BEGIN { print w * a / b }')
    target "load depth 3 >= ${want}x faster than $t" "$r" 1 "${r:+$t/strata = $(fmt_x "$b" "$a")}"
  done
  echo
  echo "agent path (strata hook SHELL --env-file; issue 17 target: SHELL -c true with it <= 1.2x without):"
  if [[ -z ${BIN[strata]-} ]]; then
    echo "  n/a (${NA[strata]-no strata})"
  else
    printf '  %-34s %14s %14s %8s  %s\n' "shell, project" "without (ms)" "with (ms)" ratio verdict
    for s in bash zsh fish; do
      for kind in agent agent1; do
        label="$s, depth 3 (122 variables)"; [[ $kind == agent1 ]] && label="$s, one file, one variable"
        wm=$(med "$kind:$s" strata); bm=$(med "$kind-bare:$s" strata)
        if [[ -z $wm || -z $bm ]]; then
          why=n/a; [[ -n ${FAIL[$kind:$s/strata]-} ]] && why="failed: ${FAIL[$kind:$s/strata]}"
          command -v "$s" >/dev/null || why="n/a ($s not installed)"
          printf '  %-34s %s\n' "$label" "$why"
          continue
        fi
        r=$(awk -v a="$wm" -v b="$bm" 'BEGIN { print a / b }')
        v="NOT met"; awk -v r="$r" 'BEGIN { exit !(r <= 1.2) }' && v=met
        printf '  %-34s %14s %14s %8s  %s\n' "$label" "$(fmt_ms "$bm")" "$(fmt_ms "$wm")" "$(fmt_x "$wm" "$bm")" "$v"
      done
    done
  fi
  echo
  echo "idle prompt in each shell (strata's hook, depth-3 leaf loaded; ratio to one /bin/true spawn"
  echo "timed in that same shell; issue 17 target: <= 0.05x):"
  if [[ -z ${BIN[strata]-} ]]; then
    echo "  n/a (${NA[strata]-no strata})"
  else
    printf '  %-8s %-32s %12s %12s %8s  %s\n' shell "prompt run as" "prompt (ms)" "true (ms)" ratio verdict
    for s in bash "${PROMPT_SHELLS[@]}"; do
      c=prompt:$s; ct=prompt-true:$s
      [[ $s == bash ]] && c=prompt ct=prompt-true
      pm=$(med "$c" strata); tm=$(med "$ct" strata)
      if [[ -z $pm || -z $tm ]]; then
        why=n/a; [[ -n ${FAIL[$c/strata]-} ]] && why="failed: ${FAIL[$c/strata]}"
        command -v "$s" >/dev/null || why="n/a ($s not installed)"
        printf '  %-8s %-32s %s\n' "$s" "${PROMPT_HOW[$s]}" "$why"
        continue
      fi
      r=$(awk -v a="$pm" -v b="$tm" 'BEGIN { print a / b }')
      v="NOT met"; awk -v r="$r" 'BEGIN { exit !(r <= 0.05) }' && v=met
      printf '  %-8s %-32s %12s %12s %8s  %s\n' "$s" "${PROMPT_HOW[$s]}" "$(fmt_ms "$pm")" "$(fmt_ms "$tm")" "$(fmt_x "$pm" "$tm")" "$v"
    done
  fi
  echo
  echo "strata scale cases (load = strata export bash from a fresh env; per item = (t - t(base)) / n):"
  if [[ -z ${BIN[strata]-} ]]; then
    echo "  n/a (${NA[strata]-no strata})"
  else
    printf '  %-42s %12s  %s\n' case "ms/call" "µs per item"
    for s in "${SCALE[@]}"; do
      m=$(med "scale:$s" strata)
      case ${SC_KIND[$s]} in
        load) b=$(med scale:base strata) ;;
        ctxlist) b=$(med scale:ctx-0 strata) ;;
        gc) b=$(med scale:sess-0 strata) ;;
      esac
      if [[ -z $m ]]; then
        printf '  %-42s %12s\n' "${SC_LABEL[$s]}" "$( [[ -n ${FAIL[scale:$s/strata]-} ]] && echo failed || echo n/a)"
      elif [[ ${SC_N[$s]} -eq 0 ]]; then
        printf '  %-42s %12s  %s\n' "${SC_LABEL[$s]}" "$(fmt_ms "$m")" "(base)"
      elif [[ -z $b ]]; then
        printf '  %-42s %12s  %s\n' "${SC_LABEL[$s]}" "$(fmt_ms "$m")" \
          "$(awk -v m="$m" -v n="${SC_N[$s]}" 'BEGIN { printf "%.3f", m * 1000 / n }') µs/${SC_UNIT[$s]} (no base: includes the fixed cost)"
      else
        printf '  %-42s %12s  %s\n' "${SC_LABEL[$s]}" "$(fmt_ms "$m")" \
          "$(awk -v m="$m" -v b="$b" -v n="${SC_N[$s]}" 'BEGIN { printf "%.3f", (m - b) * 1000 / n }') µs/${SC_UNIT[$s]}"
      fi
    done
    [[ $CTX_STATUS == ok ]] || printf '  %-42s %12s\n' "context list, 1000 contexts" "$CTX_STATUS"
    [[ $SESS_STATUS == ok ]] || printf '  %-42s %12s\n' "session gc, 1000 sessions" "$SESS_STATUS"
  fi
  if [[ ${#FAIL[@]} -gt 0 ]]; then
    echo
    echo "failures (logs: $T/logs/, kept only with --keep):"
    for k in "${!FAIL[@]}"; do printf '  %-24s %s\n' "$k" "${FAIL[$k]}"; done | sort
  fi
  echo
  echo "--- markdown (for the README) ---"
  echo
  echo "| case | /bin/true | strata | direnv | mise | shadowenv |"
  echo "|---|---|---|---|---|---|"
  for row in "${CASES[@]}" rss ir irnoop; do
    printf '| %s |' "${LABEL[$row]}"
    for t in "${COLS[@]}"; do printf ' %s |' "${MD[$row/$t]:-—}"; done
    echo
  done
  echo
  echo "_${MACHINE}; ${DATE}; ${rounds_note}; ratios to one \`/bin/true\` spawn in the same run (time rows), absolute values (RSS, instructions). direnv ${VER[direnv]:-n/a}, mise ${VER[mise]:-n/a}, shadowenv ${VER[shadowenv]:-not measured}._"
} | tee "$T/out/report.txt"
