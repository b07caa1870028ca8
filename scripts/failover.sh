#!/usr/bin/env bash
# Watch a leader failover by hand, against a running stack:
#
#   1. show what every API instance says (GET /leader),
#   2. kill the leader (`docker compose kill`, or `stop` with --graceful),
#   3. poll every instance while the survivors elect a successor,
#   4. print the new leader, its epoch and the failover time, measured
#      from the kill to the successor's own electedAt (GET /leader/history)
#      and until polling saw a single leader,
#   5. start the killed instance again and watch it rejoin as a follower.
#
# Usage: scripts/failover.sh [-p PROJECT] [--graceful] [--timeout SECONDS]
#                            [--interval SECONDS]
#
#   -p PROJECT         compose project (default $COMPOSE_PROJECT_NAME, else zkleader)
#   --graceful         `docker compose stop` (SIGTERM: the leader hands over at
#                      once) instead of `docker compose kill` (SIGKILL: the
#                      survivors wait for the leader's session to expire)
#   --timeout SECONDS  give up when no single leader appears within this long
#                      (default $FAILOVER_TIMEOUT, else 3 x the session timeout + 5 s)
#   --interval SECONDS poll interval (default $FAILOVER_POLL_INTERVAL, else 0.2)
#   $FAILOVER_REJOIN_TIMEOUT  bound for the restarted instance to rejoin (default 60 s)
#
# Exit status: 0 done; 1 no single leader within the bound (or the killed
# instance did not rejoin); 2 usage error or the stack is not ready.
# Needs docker compose, curl and python3 (only to read JSON and do arithmetic).
# Colour only on a terminal, never with NO_COLOR set or TERM=dumb.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT="${COMPOSE_PROJECT_NAME:-zkleader}"
MODE="kill"
TIMEOUT="${FAILOVER_TIMEOUT:-}"
INTERVAL="${FAILOVER_POLL_INTERVAL:-0.2}"
REJOIN_TIMEOUT="${FAILOVER_REJOIN_TIMEOUT:-60}"
MARGIN=5

usage() { sed -n '2,/^set /s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
die() {
    printf 'failover.sh: %s\n' "$1" >&2
    exit "${2:-2}"
}

while [ $# -gt 0 ]; do
    case "$1" in
        -p | --project)
            [ $# -ge 2 ] || die "$1 needs a project name"
            PROJECT="$2"
            shift 2
            ;;
        --graceful) MODE=stop && shift ;;
        --timeout)
            [ $# -ge 2 ] || die "--timeout needs a number of seconds"
            TIMEOUT="$2"
            shift 2
            ;;
        --interval)
            [ $# -ge 2 ] || die "--interval needs a number of seconds"
            INTERVAL="$2"
            shift 2
            ;;
        -h | --help) usage && exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

for tool in docker curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done

COLOR=0
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
    COLOR=1
fi
export COLOR
# Plain ANSI escapes (no tput: it fails without a terminal or terminfo).
if [ "$COLOR" = 1 ]; then
    BOLD=$'\033[1m' RED=$'\033[31m' GREEN=$'\033[32m' RESET=$'\033[0m'
else
    BOLD="" RED="" GREEN="" RESET=""
fi

# --- helpers -----------------------------------------------------------------

# All JSON reading, time arithmetic and formatting, in one place.
read -r -d '' PY <<'PYTHON' || true
import json, os, re, sys, time

COLOR = os.environ.get("COLOR") == "1"

def paint(text, code):
    return f"\033[{code}m{text}\033[0m" if COLOR else text

def parse(body):
    try:
        view = json.loads(body)
        return view if isinstance(view, dict) else None
    except ValueError:
        return None

def describe(view):
    """What one GET /leader answer says, in a few words."""
    if view is None:
        return paint("no answer", "31")
    state, leader, epoch = view.get("state"), view.get("leader") or {}, view.get("epoch")
    if view.get("isLeader"):
        return paint(f"LEADER epoch {epoch}", "1;32")
    if state == "leader":
        return paint("leader, lease not valid (isLeader false)", "33")
    if state == "follower":
        return f"follower of {leader.get('instance', '?')}" + (f" epoch {epoch}" if epoch is not None else "")
    return paint(state or "?", "33")

def sole_leader(views, min_epoch):
    """(name, epoch) when exactly one instance leads and every one agrees, else None."""
    if not views or any(v is None for v in views.values()):
        return None
    leading = [n for n, v in views.items() if v.get("isLeader")]
    if len(leading) != 1:
        return None
    name = leading[0]
    epoch = views[name].get("epoch")
    if not isinstance(epoch, int) or epoch < min_epoch:
        return None
    for n, v in views.items():
        if v.get("state") != ("leader" if n == name else "follower"):
            return None
        if (v.get("leader") or {}).get("instance") != name or v.get("epoch") != epoch:
            return None
    return name, epoch

def pairs(args):
    return {args[i]: parse(args[i + 1]) for i in range(0, len(args), 2)}

def rfc3339(text):
    """Docker timestamps (nanoseconds, Z) to Unix seconds."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text.strip())
    if not m:
        raise SystemExit(f"cannot read timestamp {text!r}")
    import datetime
    base = datetime.datetime.fromisoformat(m[1] + ("+00:00" if m[3] == "Z" else m[3]))
    return base.timestamp() + float(m[2] or 0)

def clock(t):
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}"

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "now":
    print(f"{time.time():.6f}")
elif cmd == "table":
    # table NAME PORT BODY ... -> verdict line, then the table
    rows = [(args[i], args[i + 1], parse(args[i + 2])) for i in range(0, len(args), 3)]
    found = sole_leader({n: v for n, _, v in rows}, 0)
    print(f"{found[0]} {found[1]}" if found else "none")
    print(f"  {'instance':<9}{'port':<6}{'isLeader':<10}{'state':<12}{'epoch':<14}leader")
    for name, port, v in rows:
        if v is None:
            print(f"  {name:<9}{port:<6}" + paint("no answer", "31"))
            continue
        leader = (v.get("leader") or {}).get("instance") or "-"
        flag = str(bool(v.get("isLeader"))).lower()
        line = f"  {name:<9}{port:<6}{flag:<10}{v.get('state', '?'):<12}{str(v.get('epoch')):<14}{leader}"
        print(paint(line, "1;32") if v.get("isLeader") else line)
elif cmd == "poll":
    # poll REF DEADLINE POLL_START INTERVAL MIN_EPOCH NAME BODY ...
    #   -> "LEADER EPOCH", "none PAUSE" (poll again after PAUSE s) or "timeout",
    #      then a progress line
    ref, deadline, start, interval = map(float, args[:4])
    min_epoch = int(args[4])
    views = pairs(args[5:])
    found = sole_leader(views, min_epoch)
    now = time.time()
    if found:
        print(f"{found[0]} {found[1]}")
    elif now >= deadline:
        print("timeout")
    else:
        print(f"none {max(0.0, min(interval - (now - start), deadline - now)):.3f}")
    cells = "  ".join(f"{n}: {describe(v)}" for n, v in views.items())
    print(f"  {f'+{start - ref:.2f}s':>7}  {cells}")
elif cmd == "elected-at":
    # elected-at EPOCH HISTORY_BODY -> electedAt of that term
    epoch, terms = int(args[0]), json.loads(args[1])
    times = [t["electedAt"] for t in terms if t.get("epoch") == epoch]
    if not times:
        raise SystemExit(f"no term with epoch {epoch} in the history")
    print(f"{times[-1]:.6f}")
elif cmd == "metric":
    # metric NAME TEXT -> the value of an unlabelled sample
    for line in args[1].splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == args[0]:
            print(parts[1])
            break
elif cmd == "rfc3339":
    print(f"{rfc3339(args[0]):.6f}")
elif cmd == "clock":
    print(clock(float(args[0])))
elif cmd == "calc":
    # calc EXPRESSION with numbers only (durations, bounds)
    if not re.fullmatch(r"[0-9.+\-*/() ]+", args[0]):
        raise SystemExit(f"not arithmetic: {args[0]!r}")
    print(f"{eval(args[0]):.3f}")
else:
    raise SystemExit(f"unknown helper command {cmd}")
PYTHON
py() { python3 -c "$PY" "$@"; }

now() {
    # bash 5 has a clock with microseconds; elsewhere (macOS bash 3.2) ask python.
    if [ -n "${EPOCHREALTIME:-}" ]; then
        printf '%s\n' "${EPOCHREALTIME/,/.}"
    else
        py now
    fi
}

is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; }
is_number "$INTERVAL" || die "--interval must be a number of seconds, not '$INTERVAL'"
[ -z "$TIMEOUT" ] || is_number "$TIMEOUT" || die "--timeout must be a number of seconds, not '$TIMEOUT'"

compose() { docker compose --project-directory "$ROOT" -f "$ROOT/compose.yaml" -p "$PROJECT" "$@"; }

# GET a path of one instance; prints the body, or nothing when it does not answer.
get() { curl -fsS --max-time 1 "http://127.0.0.1:$1$2" 2>/dev/null || true; }

say() { printf '%s\n' "$*"; }
heading() { printf '\n%s%s%s\n' "$BOLD" "$*" "$RESET"; }

# --- the stack ---------------------------------------------------------------

docker info >/dev/null 2>&1 || die "the Docker engine does not answer"
services=()
while IFS= read -r service; do
    case "$service" in api*) services+=("$service") ;; esac
done < <(compose config --services 2>/dev/null || true)
[ "${#services[@]}" -gt 0 ] || die "no api services in $ROOT/compose.yaml"

# Instances that run, with the loopback port their 8000 is published on.
names=() ports=()
for service in "${services[@]}"; do
    published="$(compose port "$service" 8000 2>/dev/null || true)"
    if [ -n "$published" ]; then
        names+=("$service")
        ports+=("${published##*:}")
    else
        say "note: $service is not running in project $PROJECT; leaving it out"
    fi
done
if [ "${#names[@]}" -lt 2 ]; then
    die "project $PROJECT needs at least two running API instances (have ${#names[@]}); start the stack with
  docker compose -p $PROJECT up --build -d --wait"
fi

port_of() {
    local i
    for i in "${!names[@]}"; do
        if [ "${names[$i]}" = "$1" ]; then
            printf '%s\n' "${ports[$i]}"
            return
        fi
    done
    return 1
}

# name/body pairs (or name/port/body triples for the table) of the given instances
collect() {
    local with_ports="$1" name port
    shift
    answers=()
    for name in "$@"; do
        port="$(port_of "$name")"
        if [ "$with_ports" = 1 ]; then
            answers+=("$name" "$port" "$(get "$port" /leader)")
        else
            answers+=("$name" "$(get "$port" /leader)")
        fi
    done
}

# show_table NAME...: prints the table; sets LEADER and EPOCH ("none" / "").
show_table() {
    local out verdict
    collect 1 "$@"
    out="$(py table "${answers[@]}")"
    verdict="${out%%$'\n'*}"
    LEADER="${verdict%% *}"
    EPOCH="${verdict#* }"
    [ "$LEADER" != none ] || EPOCH=""
    printf '%s\n' "${out#*$'\n'}"
}

# watch REF MIN_EPOCH BOUND NAME...: poll the instances, one line per interval,
# until a single leader with epoch >= MIN_EPOCH appears that all of them agree
# on, or BOUND seconds after REF. Sets NEW_LEADER, NEW_EPOCH and SEEN_AT;
# returns 1 at the bound.
watch() {
    local ref="$1" min_epoch="$2" bound="$3" deadline start out verdict first second
    shift 3
    deadline="$(py calc "$ref + $bound")"
    while :; do
        start="$(now)"
        collect 0 "$@"
        out="$(py poll "$ref" "$deadline" "$start" "$INTERVAL" "$min_epoch" "${answers[@]}")"
        verdict="${out%%$'\n'*}"
        printf '%s\n' "${out#*$'\n'}"
        read -r first second <<<"$verdict"
        case "$first" in
            timeout) return 1 ;;
            none) sleep "$second" ;;
            *)
                NEW_LEADER="$first" NEW_EPOCH="$second" SEEN_AT="$start"
                return 0
                ;;
        esac
    done
}

# --- 1. before -----------------------------------------------------------------

heading "zkleader failover: project $PROJECT, $([ "$MODE" = kill ] && echo 'docker compose kill (SIGKILL)' || echo 'docker compose stop (graceful)')"
show_table "${names[@]}"
if [ "$LEADER" = none ]; then
    say "no single leader that every instance agrees on yet; waiting up to 30 s"
    watch "$(now)" 0 30 "${names[@]}" ||
        die "no single leader among ${names[*]} within 30 s: nothing to fail over" 1
    show_table "${names[@]}"
fi
old_leader="$LEADER" old_epoch="$EPOCH"
old_port="$(port_of "$old_leader")"
survivors=()
for name in "${names[@]}"; do
    [ "$name" = "$old_leader" ] || survivors+=("$name")
done

session_timeout="$(py metric zkleader_session_timeout_seconds "$(get "$old_port" /metrics)")"
[ -n "$session_timeout" ] || session_timeout=4.0
if [ -z "$TIMEOUT" ]; then
    TIMEOUT="$(py calc "3 * $session_timeout + $MARGIN")"
fi
say "session timeout ${session_timeout} s (negotiated, from $old_leader's /metrics); giving up after ${TIMEOUT%.000} s"

# --- 2. kill -------------------------------------------------------------------

container="$(compose ps -q "$old_leader")"
tmp="$(mktemp -d)"
stopped=0
cleanup() {
    rm -rf "$tmp"
    if [ "$stopped" = 1 ]; then
        say "$old_leader is left stopped; start it again with: docker compose -p $PROJECT start $old_leader" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

heading "$MODE $old_leader (epoch $old_epoch); survivors: ${survivors[*]}"
issued="$(now)"
stopped=1
# In the background: `stop` takes as long as the container's shutdown, and the
# handover happens during it.
compose "$MODE" "$old_leader" >"$tmp/$MODE.log" 2>&1 &
command_pid=$!
say "$(py clock "$issued")  docker compose $MODE $old_leader issued; polling every ${INTERVAL} s"

# --- 3. wait -------------------------------------------------------------------

if ! watch "$issued" "$((old_epoch + 1))" "$TIMEOUT" "${survivors[@]}"; then
    wait "$command_pid" || true
    printf '\n%sFAILED: no single leader among %s within %s s of the %s%s\n' \
        "$RED" "${survivors[*]}" "${TIMEOUT%.000}" "$MODE" "$RESET" >&2
    exit 1
fi
if ! wait "$command_pid"; then
    cat "$tmp/$MODE.log" >&2
    die "docker compose $MODE $old_leader failed" 1
fi

# --- 4. result -----------------------------------------------------------------

# Reference instant: for a kill, when the container actually died (Docker's
# own record); for a graceful stop, when the stop was issued (the handover
# happens before the container exits).
if [ "$MODE" = kill ] && finished="$(docker inspect -f '{{.State.FinishedAt}}' "$container" 2>/dev/null)" &&
    ref="$(py rfc3339 "$finished" 2>/dev/null)"; then
    ref_label="$(py clock "$ref")  $old_leader died (docker inspect: State.FinishedAt)"
else
    ref="$issued"
    ref_label="$(py clock "$ref")  docker compose $MODE $old_leader issued"
fi
elected_at="$(py elected-at "$NEW_EPOCH" "$(get "$(port_of "$NEW_LEADER")" /leader/history)")"

heading "${GREEN}new leader: $NEW_LEADER, epoch $NEW_EPOCH${RESET} (was $old_leader, epoch $old_epoch)"
say "  $ref_label"
say "  $(py clock "$elected_at")  $NEW_LEADER elected (electedAt in its GET /leader/history)"
say "  failover time:     $(py calc "$elected_at - $ref") s until $NEW_LEADER's electedAt"
say "  seen by polling:   $(py calc "$SEEN_AT - $ref") s until the first poll that showed it"

# --- 5. rejoin -----------------------------------------------------------------

heading "start $old_leader again; it should rejoin as a follower of $NEW_LEADER"
compose start "$old_leader" >"$tmp/start.log" 2>&1 || {
    cat "$tmp/start.log" >&2
    die "docker compose start $old_leader failed" 1
}
stopped=0
restarted="$(now)"
# The published port may change on restart when it is not fixed.
for i in "${!names[@]}"; do
    if [ "${names[$i]}" = "$old_leader" ]; then
        published="$(compose port "$old_leader" 8000 2>/dev/null || true)"
        [ -z "$published" ] || ports[i]="${published##*:}"
    fi
done
if ! watch "$restarted" "$NEW_EPOCH" "$REJOIN_TIMEOUT" "${names[@]}"; then
    printf '\n%sFAILED: %s did not rejoin under a single leader within %s s%s\n' \
        "$RED" "$old_leader" "$REJOIN_TIMEOUT" "$RESET" >&2
    exit 1
fi
heading "after the rejoin ($(py calc "$SEEN_AT - $restarted") s after docker compose start)"
show_table "${names[@]}"
if [ "$LEADER" != "$NEW_LEADER" ] || [ "$EPOCH" != "$NEW_EPOCH" ]; then
    die "the leadership changed again during the rejoin: now $LEADER, epoch $EPOCH" 1
fi
say "${GREEN}ok${RESET}: $NEW_LEADER leads with epoch $NEW_EPOCH, $old_leader is back as a follower"
