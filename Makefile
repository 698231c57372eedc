# civicam — the two commands every developer needs are `make demo` and `make test`.
GO ?= go
BIN := bin/civicam

.PHONY: demo test build vet unit fuzz fuzz-short bench bench-scale bench-spatial bench-coverage bench-trace bench-import bench-gb bench-gb-register bench-record bench-hashing bench-live-browser bench-takeover clean

build:
	$(GO) build -o $(BIN) .

## demo: run civicam on its embedded default (SQLite + local disk + simulated cameras)
demo: build
	./$(BIN) demo --data ./civicam-demo

## test: every test, on SQLite and on a throw-away PostgreSQL 15, with a throw-away S3 server (versitygw)
test:
	bash scripts/install-deps.sh
	$(GO) vet ./...
	CIVICAM_REDOCLY=$$(bash scripts/install-redocly.sh) \
		bash scripts/with-postgres.sh bash scripts/with-s3.sh $(GO) test -race -count=1 -timeout 25m ./...

## fuzz: every fuzz target for FUZZTIME each, one after another (the normal test run replays
## their corpora only); `make fuzz FUZZTIME=30s` is the short version. New corpus entries go to
## Go's fuzz cache; a failing input is written to the package's testdata/fuzz/<target>/.
FUZZTIME ?= 10m
FUZZMINIMIZETIME ?= 10s
FUZZ_TARGETS := \
	FuzzScan:./internal/segment \
	FuzzRepair:./internal/segment \
	FuzzFragments:./internal/playback \
	FuzzVerify:./internal/export \
	FuzzOffer:./internal/live \
	FuzzRequestBody:./internal/httpapi \
	FuzzParseCSV:./internal/registry \
	FuzzParse:./internal/policy \
	FuzzEntryHead:./internal/trace \
	FuzzEncode:./internal/trace \
	FuzzDemux:./internal/mpegps \
	FuzzParse:./internal/gb28181/manscdp \
	FuzzParse:./internal/gb28181/sdp
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} ($${t#*:}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$${t#*:}"; \
	done

## fuzz-short: every fuzz target for 30 s, a smoke run before a commit
fuzz-short:
	$(MAKE) fuzz FUZZTIME=30s FUZZMINIMIZETIME=5s

## bench: the performance figures quoted in issues and closing notes
bench: bench-spatial bench-coverage bench-trace bench-import bench-gb bench-record

bench-spatial:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/spatial

## bench-coverage: the key places' coverage report on 100,000 cameras and 10,000 places, and the
## R-tree beside an all-pairs scan on 10,000 cameras and 1,000 places
bench-coverage:
	$(GO) test -run '^$$' -bench 'BenchmarkCoverageReport' -benchtime 3x ./internal/coverage

bench-trace:
	bash scripts/with-postgres.sh $(GO) test -run '^$$' -bench . -benchtime 2s ./internal/trace ./internal/store

## bench-gb: receiving GB/T 28181 PS over RTP beside RTSP's RTP for the same H.264 (MB/s of one
## core, CPU-ns a frame), and the PS demuxer alone; then 50 simulated GB devices recorded beside
## 50 RTSP cameras in one run (CPU-s per stream-minute, about 4 minutes)
bench-gb: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/mpegps
	./$(BIN) bench record --streams 50 --duration 60s --gb

## bench-gb-register: 50 and 500 simulated GB/T 28181 devices registering at once (digest) with a
## real civicam serve over UDP and TCP, then keeping alive for two 60 s intervals: time until all
## are online, server CPU-s and peak RSS, per device (about 12 minutes)
bench-gb-register: build
	./$(BIN) bench gb-register --devices 50,500 --transport udp,tcp --keepalive 60s --intervals 2

bench-import:
	bash scripts/with-postgres.sh $(GO) test -run '^$$' -bench BenchmarkImport -benchtime 1x ./internal/registry

## bench-live-browser: click to first frame of a live view in Chromium, median of 20 starts of a
## camera nobody else watches (the recorder's cached group of pictures is what makes it fast)
bench-live-browser:
	CIVICAM_BENCH_LIVE_BROWSER=20 $(GO) test -count=1 -run 'TestBrowserLiveView$$' -v ./internal/webui | grep -E 'first frame|^(---|ok|FAIL)'

## bench-takeover: three `civicam serve` nodes on one throw-away PostgreSQL share 60 simulated cameras;
## each of 3 rounds kills one node with kill -9, then stops another with SIGTERM (and restarts both):
## how long until each camera is recorded elsewhere and the recording gap it saw, median and max
## (about 3 minutes); TAKEOVER_CAMERAS and TAKEOVER_ROUNDS change the load
TAKEOVER_CAMERAS ?= 60
TAKEOVER_ROUNDS ?= 3
bench-takeover:
	CIVICAM_BENCH_TAKEOVER=$(TAKEOVER_CAMERAS) CIVICAM_BENCH_TAKEOVER_ROUNDS=$(TAKEOVER_ROUNDS) bash scripts/with-postgres.sh \
		$(GO) test -count=1 -run '^TestTakeover$$' -v -timeout 30m ./internal/cli | grep -E 'takeover_test|^(---|ok|FAIL)'

## bench-record: recording CPU, memory and bytes kept for 50/100/200 simulated 4 Mbit/s cameras
## (about 12 minutes); MEDIAMTX=/path/to/mediamtx adds MediaMTX, see `civicam bench record -h`
bench-record: build
	./$(BIN) bench record --streams 50,100,200 --duration 60s $(if $(MEDIAMTX),--mediamtx $(MEDIAMTX))

clean:
	rm -rf bin civicam-demo

## bench-hashing: resident memory of the running server under 64 concurrent registrations
## (argon2id is bounded process-wide; must stay under 512 MiB)
bench-hashing:
	$(GO) test -run TestRegistrationMemory -count=1 -v ./internal/app -rss

## bench-scale: every list route's and every page's median time over 100,000 cameras,
## 10,000,000 segment index rows and 10,000,000 trail entries, on SQLite and PostgreSQL;
## SCALE=10000 for a quick run, TRAIL=N for fewer trail entries (they go through the real trail,
## several thousand a second)
SCALE ?= 100000
TRAIL ?= $(shell echo $$(( $(SCALE) * 100 )))
bench-scale:
	CIVICAM_SCALE=$(SCALE) CIVICAM_SCALE_TRAIL=$(TRAIL) bash scripts/with-postgres.sh $(GO) test -run '^TestScale$$' -count=1 -v -timeout 180m -p 1 ./internal/httpapi ./internal/webui
