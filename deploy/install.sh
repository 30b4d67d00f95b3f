#!/usr/bin/env bash
# Installs (or upgrades) tgcpa as a systemd service on a Debian/Ubuntu host. Run as root:
#
#   sudo ./install.sh [--root DIR] [--no-start] path/to/tgcpa-binary
#
# - the binary → /usr/local/bin/tgcpa (replaced on upgrade)
# - a system user and group `tgcpa` (created once)
# - /etc/tgcpa/tgcpa.yaml from tgcpa.yaml beside this script, with a fresh API key (created once,
#   never overwritten: your edits survive upgrades), mode 0640 root:tgcpa
# - /etc/tgcpa/tgcpa.schema.json, the config's JSON Schema for editors, from the installed binary
#   (rewritten every run, so it matches the binary)
# - /var/lib/tgcpa (the database), owned by tgcpa
# - /etc/systemd/system/tgcpa.service from tgcpa.service beside this script (local changes belong
#   in a drop-in: `systemctl edit tgcpa`)
# then enables and starts the service, or restarts it when it was running (an upgrade).
#
# Running it again changes nothing but the binary, the schema and the unit. --root DIR installs into
# another root directory (a test, an image being built) and touches no running system; that root
# must already be a system's: DIR/etc/passwd, group, shadow and gshadow (useradd --root edits them).
# --no-start leaves the service alone. Needs: bash, useradd (passwd), install, od, awk, cmp, timeout.
set -euo pipefail

usage() { echo "usage: $0 [--root DIR] [--no-start] TGCPA_BINARY" >&2; exit 2; }

root=""
start=yes
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || usage; root="${2%/}"; shift 2 ;;
    --root=*) root="${1#--root=}"; root="${root%/}"; shift ;;
    --no-start) start=no; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "install.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$binary" ] || usage; binary="$1"; shift ;;
  esac
done
[ -n "$binary" ] || usage

kit="$(cd "$(dirname "$0")" && pwd)"
say() { echo "install.sh: $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run me as root (sudo $0 …): I create a user and write to /etc and /usr/local"
[ -f "$binary" ] || die "no file $binary"
for tool in useradd install od awk cmp timeout; do
  command -v "$tool" >/dev/null || die "needs $tool on PATH (Debian: apt install passwd coreutils gawk diffutils)"
done
if [ -n "$root" ]; then
  [ -d "$root" ] || die "--root $root: no such directory"
  for f in passwd group shadow gshadow; do
    [ -f "$root/etc/$f" ] || die "--root $root has no etc/$f: the root must be a system's (useradd --root adds the user there); create $root/etc/passwd, group, shadow and gshadow (e.g. debootstrap, or a root line in each) and run me again"
  done
fi
for f in tgcpa.service tgcpa.yaml; do [ -f "$kit/$f" ] || die "missing $kit/$f (run me from the tgcpa kit or the repository's deploy/ folder)"; done
# Refuse what would not run here: a wrong architecture, or an x64 build this CPU lacks instructions for.
# (timeout: a tgcpa older than --version would start the service instead of answering.)
version="$(timeout 10 "$binary" --version 2>&1)" || die "$binary does not run on this machine ($(uname -m)) or is older than --version: $version"
case "$version" in tgcpa\ *) ;; *) die "$binary is not tgcpa (--version printed: $version)" ;; esac

# ---- user and group ----
if grep -q '^tgcpa:' "$root/etc/passwd" 2>/dev/null; then
  say "user tgcpa exists"
else
  useradd ${root:+--root "$root"} --system --user-group --home-dir /var/lib/tgcpa --no-create-home \
    --shell /usr/sbin/nologin --comment "tgcpa service" tgcpa
  say "created the system user tgcpa"
fi
# Numbers, not names: under --root the user exists only in that root's /etc/passwd.
uid="$(awk -F: '$1 == "tgcpa" { print $3 }' "$root/etc/passwd")"
gid="$(awk -F: '$1 == "tgcpa" { print $4 }' "$root/etc/passwd")"

# ---- the binary: copied beside the old one, then renamed over it (a running service keeps its file) ----
target="$root/usr/local/bin/tgcpa"
if [ -f "$target" ] && cmp -s "$binary" "$target"; then
  say "$target is already this build: $version"
else
  [ -f "$target" ] && action="replaced" || action="installed"
  install -d -m 0755 "$root/usr/local/bin"
  install -m 0755 -o 0 -g 0 "$binary" "$target.new"
  mv -f "$target.new" "$target"
  say "$action $target: $version"
fi

# ---- config: created once, never overwritten ----
install -d -m 0750 -o 0 -g "$gid" "$root/etc/tgcpa"
config="$root/etc/tgcpa/tgcpa.yaml"
if [ -e "$config" ]; then
  say "kept $config (yours; compare with $kit/tgcpa.yaml for new keys)"
else
  key="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" # 48 hex characters
  tmp="$(mktemp "$root/etc/tgcpa/.tgcpa.yaml.XXXXXX")"
  sed "s/@API_KEY_GENERATED_BY_INSTALL_SH@/$key/" "$kit/tgcpa.yaml" > "$tmp"
  chown 0:"$gid" "$tmp"
  chmod 0640 "$tmp"
  mv "$tmp" "$config"
  say "wrote $config with a new API key (api_keys)"
fi

# ---- the config's JSON Schema, from this binary (the first line of tgcpa.yaml names it) ----
schema="$root/etc/tgcpa/tgcpa.schema.json"
"$binary" config-schema > "$schema.new" || die "$binary config-schema failed"
chmod 0644 "$schema.new"
mv -f "$schema.new" "$schema"
say "wrote $schema"

# ---- state directory (systemd creates it too; created here so backup/restore work before the first start) ----
install -d -m 0750 -o "$uid" -g "$gid" "$root/var/lib/tgcpa"

# ---- the unit ----
unit="$root/etc/systemd/system/tgcpa.service"
if [ -f "$unit" ] && cmp -s "$kit/tgcpa.service" "$unit"; then
  say "$unit is up to date"
else
  install -d -m 0755 "$root/etc/systemd/system"
  install -m 0644 -o 0 -g 0 "$kit/tgcpa.service" "$unit"
  say "installed $unit"
fi

# On the live system, the unit as installed (its ExecStart now exists) is checked by systemd itself.
if [ -z "$root" ] && command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" || die "systemd-analyze verify $unit failed (above)"
fi

if ! "$target" check-config "$config" >/dev/null; then
  die "$config has errors (listed above); fix them, then: systemctl restart tgcpa"
fi

if [ -n "$root" ] || [ "$start" = no ]; then
  say "done; the service was not started (--root or --no-start)"
  exit 0
fi
if [ ! -d /run/systemd/system ]; then
  say "done; systemd is not running here, start it yourself: $target serve --config $config"
  exit 0
fi
systemctl daemon-reload
if systemctl is-active --quiet tgcpa; then
  systemctl restart tgcpa
  say "restarted tgcpa"
else
  systemctl enable --now tgcpa
  say "enabled and started tgcpa"
fi
say "status: systemctl status tgcpa; logs: journalctl -u tgcpa -f; next: README \"Deploy on a VPS\""
