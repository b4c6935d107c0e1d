#!/bin/sh
# Waits for the Temporal frontend, then creates Switchback's namespace and
# custom search attributes (all Keyword) unless they exist. Idempotent: it
# runs on each `docker compose up`.
#
# Reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_NAMESPACE_RETENTION
# and SWITCHBACK_SEARCH_ATTRIBUTES (space-separated names).
set -eu

: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${TEMPORAL_NAMESPACE_RETENTION:?}"
: "${SWITCHBACK_SEARCH_ATTRIBUTES:?}"

tries=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
	tries=$((tries + 1))
	if [ "$tries" -ge 60 ]; then
		echo "temporal-setup: Temporal at $TEMPORAL_ADDRESS is not serving after $tries tries" >&2
		exit 1
	fi
	sleep 2
done

if ! temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
	echo "temporal-setup: creating namespace $TEMPORAL_NAMESPACE (retention $TEMPORAL_NAMESPACE_RETENTION)"
	temporal operator namespace create --address "$TEMPORAL_ADDRESS" \
		--namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_NAMESPACE_RETENTION"
fi

# Only the missing ones: on some visibility stores adding one that exists
# is an error.
existing=$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE")
for name in $SWITCHBACK_SEARCH_ATTRIBUTES; do
	if printf '%s\n' "$existing" | grep -qw "$name"; then
		continue
	fi
	echo "temporal-setup: search attribute $name (Keyword)"
	temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" \
		--namespace "$TEMPORAL_NAMESPACE" --name "$name" --type Keyword
done

# The namespace registry refreshes on its own schedule: wait until the
# frontend lists every attribute, so workers never start before them.
tries=0
for name in $SWITCHBACK_SEARCH_ATTRIBUTES; do
	until temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" \
		--namespace "$TEMPORAL_NAMESPACE" | grep -qw "$name"; do
		tries=$((tries + 1))
		if [ "$tries" -ge 60 ]; then
			echo "temporal-setup: search attribute $name is not listed" >&2
			exit 1
		fi
		sleep 2
	done
done
echo "temporal-setup: done"
