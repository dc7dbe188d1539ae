#!/usr/bin/env bash
# Builds, once, the OpenTelemetry Collector used by `make interop`: a real
# Fluent forward receiver (contrib fluentforwardreceiver) and OTLP receiver,
# with file and debug exporters. The build lives outside the repository module
# (its own go.mod under the cache directory) and is never committed.
#
# Usage: tools/interop/build-collector.sh   -> prints the binary's path.
# Cache: ${SHOAL_OTELCOL_DIR:-$HOME/.cache/shoal/otelcol}. A cold build takes
# ~13 minutes on two idle cores; later runs return at once.
set -euo pipefail

CORE=v0.161.0          # go.opentelemetry.io/collector receivers/exporters, builder
CONTRIB=v0.161.0       # opentelemetry-collector-contrib components
CONFMAP=v1.67.0        # confmap providers
DIR=${SHOAL_OTELCOL_DIR:-$HOME/.cache/shoal/otelcol}
STAMP="core=$CORE contrib=$CONTRIB confmap=$CONFMAP"
BIN=$DIR/dist/otelcol-shoal

if [ -x "$BIN" ] && [ "$(cat "$DIR/stamp" 2>/dev/null)" = "$STAMP" ]; then
  echo "$BIN"; exit 0
fi

mkdir -p "$DIR/bin" "$DIR/dist"
if [ ! -x "$DIR/bin/builder" ]; then
  echo "installing the Collector Builder $CORE into $DIR/bin" >&2
  # Run outside any module so the repository's go.mod is never touched.
  (cd "$DIR" && GOBIN="$DIR/bin" GOFLAGS=-mod=mod go install "go.opentelemetry.io/collector/cmd/builder@$CORE")
fi

cat > "$DIR/builder-config.yaml" <<YAML
dist:
  name: otelcol-shoal
  description: Shoal interop collector (fluentforward + OTLP in, file + debug out)
  output_path: $DIR/dist
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver $CORE
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/fluentforwardreceiver $CONTRIB
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter $CORE
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter $CONTRIB
providers:
  - gomod: go.opentelemetry.io/collector/confmap/provider/fileprovider $CONFMAP
  - gomod: go.opentelemetry.io/collector/confmap/provider/envprovider $CONFMAP
YAML

echo "building the collector in $DIR/dist (cold: ~13 min)" >&2
(cd "$DIR" && GOFLAGS=-mod=mod "$DIR/bin/builder" --config "$DIR/builder-config.yaml" >&2)
echo "$STAMP" > "$DIR/stamp"
echo "$BIN"
