#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/plot.sh OUTDIR: PNG plots of a bench/scenarios.sh run through gnuplot, from
# OUTDIR/data: CPU per probe vs targets per prober (cpu-tcp.png, cpu-http.png), probe latency CDF
# (latency-cdf.png: the probers that report per-probe latency), detection latency CDF
# (detect-cdf.png). Prints the markdown that links them.
set -eu
out=$1
d=$out/data
rel=$(basename "$out")
command -v gnuplot >/dev/null || { echo "- plots skipped: no gnuplot (apt-get install gnuplot-nox)"; exit 0; }
term='set terminal pngcairo size 900,560 font ",10"; set grid; set key left top; set datafile missing "-"'
echo
echo "## plots"
echo
for kind in tcp http; do
	f=$d/cpu-$kind.dat
	[ -s "$f" ] || continue
	# x: the target counts of the run (log scale, a margin either side), one tic each.
	xr=$(awk 'NR > 1 { if (!lo || $1 < lo) lo = $1; if ($1 > hi) hi = $1 } END { printf "%g:%g", lo * 0.7, hi * 1.4 }' "$f")
	xt=$(awk 'NR > 1 { printf "%s%s", (NR > 2 ? ", " : ""), $1 }' "$f")
	gnuplot -e "$term; set output '$out/cpu-$kind.png';
		set title 'CPU-s per 1k $kind probes vs targets (1 s period; shared 2-core machine)';
		set xlabel 'targets'; set ylabel 'CPU-s per 1000 probes'; set yrange [0:*];
		set key autotitle columnhead; set logscale x; set xrange [$xr]; set xtics ($xt);
		plot for [i=2:*] '$f' using 1:i with linespoints lw 2"
	echo "![CPU per $kind probe vs targets]($rel/cpu-$kind.png)"
done
lat=$(ls "$d"/lat-*-1000.cdf 2>/dev/null || true)
if [ -n "$lat" ]; then
	plots=
	for f in $lat; do
		t=$(basename "$f" .cdf | sed 's/^lat-//; s/-1000$//')
		plots="$plots${plots:+, }'$f' using 1:2 with lines lw 2 title '$t'"
	done
	gnuplot -e "$term; set output '$out/latency-cdf.png'; set key right bottom;
		set title 'probe latency CDF, 1000 targets at 1 s (probers that report it)';
		set xlabel 'ms (log)'; set ylabel 'fraction of probes'; set logscale x; set yrange [0:1];
		plot $plots"
	echo "![probe latency CDF]($rel/latency-cdf.png) (podprobe's engine and HAProxy report no per-probe latency)"
fi
det=$(ls "$d"/det-*.txt 2>/dev/null || true)
if [ -n "$det" ]; then
	plots=
	for f in $det; do
		[ -s "$f" ] || continue
		t=$(basename "$f" .txt | sed 's/^det-//')
		n=$(wc -l <"$f")
		plots="$plots${plots:+, }'$f' using 1:(1.0/$n) smooth cumulative with lines lw 2 title '$t'"
	done
	if [ -n "$plots" ]; then
		gnuplot -e "$term; set output '$out/detect-cdf.png'; set key right bottom;
			set title 'detection latency CDF: fault -> first failure reported (period 1 s)';
			set xlabel 'ms (log)'; set ylabel 'fraction of trials'; set logscale x; set yrange [0:1];
			plot $plots"
		echo "![detection latency CDF]($rel/detect-cdf.png)"
	fi
fi
