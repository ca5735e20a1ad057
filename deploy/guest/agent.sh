#!/bin/sh
# Stand-in for the CVM agent. busybox `nc -ll -p 7002 -e /bin/cvm-agent` runs it once per connection, with
# stdin/stdout on the socket. It writes exactly one line, in a single write(2):
#   cvm-agent ready id=<AGENT_CVM_ID> certs=<sorted, comma-separated names of the files in /etc/certs>
# then waits up to 1 s for one line; if that line is "poweroff" it powers the guest off.
# Pure shell (no forks) so that it answers quickly under TCG.
exec 2>/dev/null

ENV_FILE=${CVM_AGENT_ENV_FILE:-/etc/cocos/environment}
CERTS_DIR=${CVM_AGENT_CERTS_DIR:-/etc/certs}

# Lines look like AGENT_CVM_ID='4b0f...'. Parsed rather than sourced: nothing from the share gets executed.
id=
if [ -r "$ENV_FILE" ]; then
	while IFS= read -r l || [ -n "$l" ]; do
		l=${l#export }
		case $l in
		AGENT_CVM_ID=*)
			id=${l#AGENT_CVM_ID=}
			case $id in
			\'*\') id=${id#\'}; id=${id%\'} ;;
			\"*\") id=${id#\"}; id=${id%\"} ;;
			esac
			;;
		esac
	done <"$ENV_FILE"
fi
[ -n "$id" ] || id=unknown

certs=
for f in "$CERTS_DIR"/*; do # glob expansion is sorted
	[ -f "$f" ] || continue
	certs="${certs:+$certs,}${f##*/}"
done

# busybox echo emits its whole output with one write(2).
echo "cvm-agent ready id=$id certs=$certs"

line=
read -t 1 -r line || true
case $line in
poweroff | poweroff[[:space:]])
	echo "cvm-guest: poweroff requested by agent client" >/dev/console
	sync
	poweroff -f
	;;
esac
exit 0
