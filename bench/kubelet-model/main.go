// SPDX-License-Identifier: Apache-2.0

// kubelet-model: a model of kubelet's prober, as a peer in podprobe's benchmarks
// (bench/scenarios.sh). Standard library only. It follows, from kubernetes/kubernetes:
//
//   - pkg/kubelet/prober/worker.go (worker.run): one goroutine per probe; it first sleeps a
//     random fraction of the period ("If kubelet restarted the probes could be started in
//     rapid succession"), then probes once per tick of a time.Ticker of periodSeconds.
//   - pkg/probe/tcp/tcp.go (DoTCPProbe): net.Dialer with the timeout, Dial("tcp"), then
//     Close; any dial error is a failure.
//   - pkg/probe/http/http.go (NewWithTLSConfig, httpProber.Probe, DoHTTPProbe): a transport
//     with DisableKeepAlives, DisableCompression and no proxy, dialing through
//     pkg/probe/dialer_others.go (ProbeDialer: SO_LINGER {1, 1}); an http.Client with the
//     probe's timeout and no redirects followed; the body read up to maxRespBodyLength
//     (10 KiB); 200..399 is success (3xx a warning, counted as success here), else failure.
//   - pkg/probe/http/request.go (newProbeRequest): User-Agent "kube-probe/<major>.<minor>"
//     and Accept "*/*".
//
// Kubelet's prober.go (newProber) builds one http transport for all probes; DisableKeepAlives
// already gives every request its own connection. -transport=per-request (the default, an
// upper bound) builds a fresh transport per request, -transport=shared does what newProber does.
//
// Prints the key=value line bench/bench_probe.c prints (bench=kubelet_model ...), plus p50/p99
// probe latency; -latency-out writes the latency CDF; -events prints one line per failure
// (and recovery) transition of a target, for detection latency (bench_fleet stamp).
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	maxRespBodyLength = 10 * 1 << 10 // pkg/probe/http/http.go
	userAgent         = "kube-probe/1.34"
	histUs            = 10     // latency buckets of 10 µs
	histN             = 100001 // up to 1 s, then one overflow bucket
)

var (
	kind      = flag.String("kind", "tcp", "tcp or http")
	targets   = flag.Int("n", 1000, "probes (one goroutine each)")
	port      = flag.Int("port", 11000, "first target port on 127.0.0.1")
	ports     = flag.Int("ports", 1, "spread the probes over this many consecutive ports")
	period    = flag.Duration("period", time.Second, "periodSeconds")
	seconds   = flag.Duration("seconds", 10*time.Second, "measured time after one period of warm-up; 0: until SIGTERM")
	timeout   = flag.Duration("timeout", time.Second, "timeoutSeconds")
	path      = flag.String("path", "/healthz", "httpGet path")
	transport = flag.String("transport", "per-request", "per-request or shared (kubelet's newProber)")
	latOut    = flag.String("latency-out", "", "write the probe latency CDF (ms fraction) here")
	events    = flag.Bool("events", false, "print 'fail port=P' / 'ok port=P' on each transition")

	measuring          atomic.Bool
	attempts, failures atomic.Uint64
	late               atomic.Uint64
	maxLateNs          atomic.Int64
	hist               [histN]atomic.Uint64
	outMu              sync.Mutex
	shared             *http.Transport
)

// pkg/probe/dialer_others.go: ProbeDialer sets SO_LINGER {1, 1} on every probe socket.
func probeDialer() *net.Dialer {
	return &net.Dialer{
		Control: func(network, address string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) {
				syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER,
					&syscall.Linger{Onoff: 1, Linger: 1})
			})
		},
	}
}

func newTransport() *http.Transport {
	return &http.Transport{
		DisableKeepAlives:  true,
		Proxy:              http.ProxyURL(nil),
		DisableCompression: true,
		DialContext:        probeDialer().DialContext,
	}
}

// DoTCPProbe (pkg/probe/tcp/tcp.go).
func tcpProbe(addr string) bool {
	d := probeDialer()
	d.Timeout = *timeout
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return false
	}
	return conn.Close() == nil
}

// httpProber.Probe + DoHTTPProbe (pkg/probe/http/http.go).
func httpProbe(url string) bool {
	tr := shared
	if tr == nil {
		tr = newTransport()
		defer tr.CloseIdleConnections()
	}
	client := &http.Client{
		Timeout:   *timeout,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "*/*")
	res, err := client.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	if _, err := io.ReadAll(io.LimitReader(res.Body, maxRespBodyLength)); err != nil {
		return false
	}
	return res.StatusCode >= http.StatusOK && res.StatusCode < http.StatusBadRequest
}

func say(format string, a ...any) {
	outMu.Lock()
	fmt.Fprintf(os.Stdout, format, a...)
	outMu.Unlock()
}

// worker.run (pkg/kubelet/prober/worker.go): random initial delay, then one probe per tick.
func worker(p int, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	url := "http://" + addr + *path
	select {
	case <-time.After(time.Duration(rand.Float64() * float64(*period))):
	case <-stop:
		return
	}
	ticker := time.NewTicker(*period)
	defer ticker.Stop()
	var last time.Time
	healthy := true
	for {
		start := time.Now()
		if !last.IsZero() && measuring.Load() {
			if l := start.Sub(last) - *period; l > *period/10 {
				late.Add(1)
				for m := maxLateNs.Load(); int64(l) > m && !maxLateNs.CompareAndSwap(m, int64(l)); m = maxLateNs.Load() {
				}
			}
		}
		last = start
		var ok bool
		if *kind == "tcp" {
			ok = tcpProbe(addr)
		} else {
			ok = httpProbe(url)
		}
		if measuring.Load() {
			attempts.Add(1)
			if !ok {
				failures.Add(1)
			}
			b := time.Since(start).Microseconds() / histUs
			if b >= histN {
				b = histN - 1
			}
			hist[b].Add(1)
		}
		if *events && ok != healthy {
			if ok {
				say("ok port=%d\n", p)
			} else {
				say("fail port=%d\n", p)
			}
		}
		healthy = ok
		select {
		case <-ticker.C:
		case <-stop:
			return
		}
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			v, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return v
		}
	}
	return -1
}

func pct(q float64, total uint64) float64 {
	want, sum := uint64(q*float64(total)), uint64(0)
	for b := range hist {
		sum += hist[b].Load()
		if sum > want {
			return float64((b+1)*histUs) / 1000
		}
	}
	return 0
}

func main() {
	flag.Parse()
	if *kind != "tcp" && *kind != "http" {
		fmt.Fprintln(os.Stderr, "kubelet-model: -kind is tcp or http")
		os.Exit(2)
	}
	if *transport == "shared" {
		shared = newTransport()
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	rss0 := rssKiB()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < *targets; i++ {
		wg.Add(1)
		go worker(*port+i%*ports, stop, &wg)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-time.After(*period):
	case <-sig:
	}
	measuring.Store(true)
	cpu0 := cpuSeconds()
	t0 := time.Now()
	if *seconds > 0 {
		select {
		case <-time.After(*seconds):
		case <-sig:
		}
	} else {
		<-sig
	}
	measuring.Store(false)
	cpu1 := cpuSeconds()
	secs := time.Since(t0).Seconds()
	rss1 := rssKiB()
	close(stop)
	n := attempts.Load()
	per1k, latePct := 0.0, 0.0
	if n > 0 {
		per1k = (cpu1 - cpu0) * 1000 / float64(n)
		latePct = 100 * float64(late.Load()) / float64(n)
	}
	say("bench=kubelet_model kind=%s targets=%d period_ms=%d seconds=%.1f attempts=%d "+
		"rate=%.0f cpu_s=%.3f cpu_s_per_1000=%.4f late_pct=%.2f failures=%d unknown=0 "+
		"max_late_ms=%.1f rss_kib=%d rss_bytes_per_target=%.0f p50_ms=%.2f p99_ms=%.2f "+
		"transport=%s\n",
		*kind, *targets, period.Milliseconds(), secs, n, float64(n)/secs, cpu1-cpu0, per1k,
		latePct, failures.Load(), float64(maxLateNs.Load())/1e6, rss1,
		float64(rss1-rss0)*1024/float64(*targets), pct(0.5, n), pct(0.99, n), *transport)
	if *latOut != "" {
		f, err := os.Create(*latOut)
		if err == nil {
			sum := uint64(0)
			for b := range hist {
				if c := hist[b].Load(); c > 0 {
					sum += c
					fmt.Fprintf(f, "%.3f %.6f\n", float64((b+1)*histUs)/1000, float64(sum)/float64(n))
				}
			}
			f.Close()
		}
	}
}
