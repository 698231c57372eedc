package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/bucket"
	"civicam/internal/policy"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/timespan"
)

// Location is a place recordings are kept: for now the one local disk, DATA/recordings.
type Location struct {
	Name string
	Root string // a directory on the file system whose free space counts
}

// PlannerConfig tunes the Planner.
type PlannerConfig struct {
	// Locations are the storage locations; the first is where cameras go unless Locate says
	// otherwise.
	Locations []Location
	// Margin is how far above the floor's need a location's capacity must stay before
	// storage_below_floor is raised, as a fraction: 0.1 raises it when the capacity is less
	// than 110% of what the floor needs, before the floor is actually at risk. Default 0.1;
	// negative means none.
	Margin float64
	// ForecastInterval is how often the forecast metrics are refreshed; default 5 min.
	ForecastInterval time.Duration
	// WatchInterval is how often the recorders' states are checked for a full storage;
	// default 5 s.
	WatchInterval time.Duration
	// BitrateWindow is how far back the index is read to estimate the bitrate of a camera the
	// recorder does not report (not recorded by this process, or offline); default 24 h.
	BitrateWindow time.Duration
}

func (c PlannerConfig) withDefaults() PlannerConfig {
	if c.Margin == 0 {
		c.Margin = 0.1
	}
	if c.Margin < 0 {
		c.Margin = 0
	}
	if c.ForecastInterval <= 0 {
		c.ForecastInterval = 5 * time.Minute
	}
	if c.WatchInterval <= 0 {
		c.WatchInterval = 5 * time.Second
	}
	if c.BitrateWindow <= 0 {
		c.BitrateWindow = Day
	}
	return c
}

// StatusSource reports what the recorders measure; *recorder.Recorder implements it.
type StatusSource interface {
	Statuses() []recorder.Status
}

// PlanIndex is what the Planner reads of the recordings index; *store.DB implements it.
type PlanIndex interface {
	RecordingSummaries(ctx context.Context, since time.Time) ([]RecordingSummary, error)
	// RecordingSummariesOf is RecordingSummaries of the cameras ids alone, for a page of them.
	RecordingSummariesOf(ctx context.Context, ids []string) ([]RecordingSummary, error)
	// RecordingSpansOf are the cameras' recorded spans (sealed segments merged across the index's
	// gap rule), in order, for the gaps of a page of cameras in one query.
	RecordingSpansOf(ctx context.Context, ids []string) (map[string][]timespan.Range, error)
	RecordingRanges(ctx context.Context, cameraID string, start, end time.Time) (timespan.Coverage, error)
}

// FreeSpace reports the bytes free (to an unprivileged writer) and the total size of the file
// system holding path.
type FreeSpace func(path string) (free, total int64, err error)

// Statfs is the FreeSpace of the local file system. A location not created yet (nothing
// recorded so far) is measured at its nearest existing parent, where it will be created.
func Statfs(path string) (free, total int64, err error) {
	var st syscall.Statfs_t
	p := path
	for {
		err = syscall.Statfs(p, &st)
		if !errors.Is(err, syscall.ENOENT) || filepath.Dir(p) == p {
			break
		}
		p = filepath.Dir(p)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), nil
}

// BucketStatus reports the bucket's upload queue; *bucket.Uploader implements it.
type BucketStatus interface {
	Status() bucket.Status
}

// BucketWaitLimit is how long sealed segments may wait on local disk for the bucket before the
// compliance report says so.
const BucketWaitLimit = 15 * time.Minute

// PlannerDeps are the Planner's collaborators.
type PlannerDeps struct {
	Index    PlanIndex
	Registry Registry
	Recorder StatusSource // nil when this process records nothing
	// Bucket reports the uploads to recordings.s3; nil when recordings stay on local disk.
	Bucket BucketStatus
	Free   FreeSpace // default Statfs
	// Locate names the location of a camera's recordings; default: the first location.
	Locate  func(cameraID string) string
	Metrics prometheus.Registerer // optional
	Logger  *slog.Logger
	Now     func() time.Time
}

// Planner forecasts storage and watches for full storage.
type Planner struct {
	cfg  PlannerConfig
	deps PlannerDeps
	log  *slog.Logger

	forecastSeconds  *prometheus.GaugeVec
	untilFullSeconds *prometheus.GaugeVec
	neededBytes      *prometheus.GaugeVec
	floorBytes       *prometheus.GaugeVec
	freeBytes        *prometheus.GaugeVec
	keptBytes        *prometheus.GaugeVec
	belowFloor       *prometheus.GaugeVec
	fullCameras      prometheus.Gauge
	fullEvents       prometheus.Counter

	mu       sync.Mutex
	full     map[string]string // camera id → reason, for cameras stopped by a full storage
	resuming map[string]bool   // cameras out of the full state, not recording yet

	// The last forecast Run computed: the compliance report and the API read it rather than
	// summing a large index on every request.
	lastMu sync.Mutex
	last   []Forecast
	lastAt time.Time
}

// NewPlanner returns a Planner; Run refreshes its metrics and watches the recorders.
func NewPlanner(cfg PlannerConfig, deps PlannerDeps) *Planner {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Free == nil {
		deps.Free = Statfs
	}
	p := &Planner{cfg: cfg.withDefaults(), deps: deps, log: deps.Logger, full: map[string]string{}, resuming: map[string]bool{}}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"location"})
	}
	// Prometheus wants base units (seconds), whatever the API's JSON says in days; a location with
	// no intake has no forecast and so no series, rather than a sentinel value a graph would plot.
	p.forecastSeconds = gauge("civicam_storage_forecast_seconds", "Seconds of recording the location holds at the current intake (kept plus free space over the intake).")
	p.untilFullSeconds = gauge("civicam_storage_until_full_seconds", "Seconds until the location's free space is used up at the current intake, if nothing were deleted.")
	p.neededBytes = gauge("civicam_storage_needed_bytes", "Bytes the location needs to keep every camera's retention at the current intake.")
	p.floorBytes = gauge("civicam_storage_floor_needed_bytes", "Bytes the location needs to keep the policy's retention floor for every camera at the current intake.")
	p.freeBytes = gauge("civicam_storage_free_bytes", "Free bytes on the location's file system.")
	p.keptBytes = gauge("civicam_storage_kept_bytes", "Bytes of sealed recordings kept at the location, from the index.")
	p.belowFloor = gauge("civicam_storage_below_floor", "1 when the location cannot hold the retention floor (with the configured margin) at the current intake.")
	p.fullCameras = prometheus.NewGauge(prometheus.GaugeOpts{Name: "civicam_recording_storage_full_cameras",
		Help: "Cameras whose recording is stopped because their storage is full."})
	p.fullEvents = prometheus.NewCounter(prometheus.CounterOpts{Name: "civicam_recording_storage_full_total",
		Help: "Times a camera's recording stopped because its storage was full."})
	if deps.Metrics != nil {
		for _, m := range []prometheus.Collector{p.forecastSeconds, p.untilFullSeconds, p.neededBytes, p.floorBytes,
			p.freeBytes, p.keptBytes, p.belowFloor, p.fullCameras, p.fullEvents} {
			if err := deps.Metrics.Register(m); err != nil {
				p.log.Warn("retention: register metric", "err", err)
			}
		}
	}
	return p
}

// Locations are the configured storage locations.
func (p *Planner) Locations() []Location { return slices.Clone(p.cfg.Locations) }

// Run refreshes the forecast metrics every ForecastInterval and checks the recorders every
// WatchInterval until ctx is done.
func (p *Planner) Run(ctx context.Context) error {
	ft := time.NewTicker(p.cfg.ForecastInterval)
	defer ft.Stop()
	wt := time.NewTicker(p.cfg.WatchInterval)
	defer wt.Stop()
	p.refresh(ctx)
	for {
		p.Watch()
		select {
		case <-ctx.Done():
			return nil
		case <-ft.C:
			p.refresh(ctx)
		case <-wt.C:
		}
	}
}

func (p *Planner) refresh(ctx context.Context) {
	fs, err := p.Forecast(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Error("retention: storage forecast", "err", err)
		}
		return
	}
	p.lastMu.Lock()
	p.last, p.lastAt = fs, p.deps.Now()
	p.lastMu.Unlock()
	for _, f := range fs {
		setSeconds(p.forecastSeconds, f.Location, f.DaysForecast)
		setSeconds(p.untilFullSeconds, f.Location, f.DaysUntilFull)
		p.neededBytes.WithLabelValues(f.Location).Set(float64(f.NeededBytes))
		p.floorBytes.WithLabelValues(f.Location).Set(float64(f.FloorNeededBytes))
		p.freeBytes.WithLabelValues(f.Location).Set(float64(f.FreeBytes))
		p.keptBytes.WithLabelValues(f.Location).Set(float64(f.KeptBytes))
		below := 0.0
		if f.BelowFloor {
			below = 1
			days := -1.0 // no intake, so no forecast
			if f.DaysForecast != nil {
				days = *f.DaysForecast
			}
			p.log.Error("retention: storage location cannot hold the retention floor", "location", f.Location,
				"days_forecast", days, "floor_days", f.FloorDays, "capacity_bytes", f.CapacityBytes, "floor_needed_bytes", f.FloorNeededBytes)
		}
		p.belowFloor.WithLabelValues(f.Location).Set(below)
	}
}

// StorageFull reports whether a recorder status is a stop for lack of space.
func StorageFull(st recorder.Status) bool {
	return st.State == recorder.StateError && strings.HasPrefix(st.Reason, recorder.ReasonStorageFull)
}

// Watch checks the recorders once: a camera whose recording stopped because its storage is full
// is alerted (logged at error, counted), and logged again when it records once more. It returns
// the cameras stopped by a full storage.
func (p *Planner) Watch() []string {
	if p.deps.Recorder == nil {
		return nil
	}
	now := map[string]string{}
	recording := map[string]bool{}
	for _, st := range p.deps.Recorder.Statuses() {
		if StorageFull(st) {
			now[st.CameraID] = st.Reason
		}
		recording[st.CameraID] = st.State == recorder.StateRecording
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for cam, reason := range now {
		if _, was := p.full[cam]; !was {
			p.fullEvents.Inc()
			p.log.Error("recording stopped: storage full", "camera", cam, "location", p.locate(cam), "reason", reason)
		}
		delete(p.resuming, cam)
	}
	for cam := range p.full {
		if _, still := now[cam]; !still {
			p.resuming[cam] = true
		}
	}
	// A camera leaves the full state for "connecting" first; its resumption is logged once it
	// records again (or forgotten if the recorder no longer reports it).
	for cam := range p.resuming {
		rec, reported := recording[cam]
		switch {
		case rec:
			p.log.Info("recording resumed: storage available again", "camera", cam, "location", p.locate(cam))
			delete(p.resuming, cam)
		case !reported:
			delete(p.resuming, cam)
		}
	}
	p.full = now
	p.fullCameras.Set(float64(len(now)))
	out := make([]string, 0, len(now))
	for cam := range now {
		out = append(out, cam)
	}
	slices.Sort(out)
	return out
}

func (p *Planner) locate(cam string) string {
	if p.deps.Locate != nil {
		if l := p.deps.Locate(cam); l != "" {
			return l
		}
	}
	if len(p.cfg.Locations) > 0 {
		return p.cfg.Locations[0].Name
	}
	return ""
}

// CameraLoad is one camera's part in a location's forecast.
type CameraLoad struct {
	CameraID      string `json:"camera_id"`
	BitrateBps    int64  `json:"bitrate_bps"`
	Measured      bool   `json:"bitrate_measured"` // false: estimated from the index
	RetentionDays int    `json:"retention_days"`   // effective: never below the floor
	KeptBytes     int64  `json:"kept_bytes"`
	NeededBytes   int64  `json:"needed_bytes"` // bitrate × retention days
	FloorBytes    int64  `json:"floor_needed_bytes"`
}

// Forecast is what a storage location can hold at the current intake.
type Forecast struct {
	Location   string `json:"location"`
	Root       string `json:"root"`
	FreeBytes  int64  `json:"free_bytes"`
	TotalBytes int64  `json:"total_bytes"`
	KeptBytes  int64  `json:"kept_bytes"`
	// CapacityBytes is what recordings can occupy in the steady state: what is kept (which
	// retention frees in turn) plus what is free.
	CapacityBytes     int64 `json:"capacity_bytes"`
	IntakeBytesPerDay int64 `json:"intake_bytes_per_day"`
	// DaysForecast is CapacityBytes over the daily intake: how many days of recording the
	// location can hold. Nil when nothing is recorded.
	DaysForecast *float64 `json:"days_forecast"`
	// DaysUntilFull is FreeBytes over the daily intake, if nothing were deleted.
	DaysUntilFull    *float64     `json:"days_until_full"`
	NeededBytes      int64        `json:"needed_bytes"`
	FloorDays        int          `json:"floor_days"`
	FloorNeededBytes int64        `json:"floor_needed_bytes"`
	BelowRetention   bool         `json:"below_retention"` // cannot hold every camera's retention
	BelowFloor       bool         `json:"below_floor"`     // cannot hold the floor, with the margin
	Cameras          []CameraLoad `json:"cameras"`
	Error            string       `json:"error,omitempty"` // the free space could not be read
}

// Plan computes a location's forecast from its free space, the policy floor and its cameras'
// loads (BitrateBps, RetentionDays and KeptBytes filled in); margin is PlannerConfig.Margin.
func Plan(loc Location, free, total int64, floorDays int, margin float64, cams []CameraLoad) Forecast {
	f := Forecast{Location: loc.Name, Root: loc.Root, FreeBytes: free, TotalBytes: total, FloorDays: floorDays}
	var perDay float64
	var needed, floorNeeded float64
	for i := range cams {
		c := &cams[i]
		c.RetentionDays = RetentionDays(c.RetentionDays, floorDays)
		daily := float64(c.BitrateBps) / 8 * Day.Seconds()
		c.NeededBytes = int64(daily * float64(c.RetentionDays))
		c.FloorBytes = int64(daily * float64(floorDays))
		perDay += daily
		needed += daily * float64(c.RetentionDays)
		floorNeeded += daily * float64(floorDays)
		f.KeptBytes += c.KeptBytes
	}
	f.Cameras = cams
	if f.Cameras == nil {
		f.Cameras = []CameraLoad{}
	}
	f.CapacityBytes = f.KeptBytes + free
	f.IntakeBytesPerDay = int64(perDay)
	f.NeededBytes = int64(needed)
	f.FloorNeededBytes = int64(floorNeeded)
	if perDay > 0 {
		d := float64(f.CapacityBytes) / perDay
		u := float64(free) / perDay
		f.DaysForecast, f.DaysUntilFull = &d, &u
	}
	f.BelowRetention = float64(f.CapacityBytes) < needed
	f.BelowFloor = float64(f.CapacityBytes) < floorNeeded*(1+margin)
	return f
}

// Forecast computes every location's forecast: bitrates as the recorders measure them (or, for a
// camera they do not report, as the index shows over BitrateWindow), the bytes kept from the
// index, and the free space of the location's file system.
func (p *Planner) Forecast(ctx context.Context) ([]Forecast, error) {
	if len(p.cfg.Locations) == 0 {
		// Nothing to forecast, and no reason to sum the index for it.
		return []Forecast{}, nil
	}
	loads, floor, err := p.loads(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Forecast, 0, len(p.cfg.Locations))
	for _, loc := range p.cfg.Locations {
		var cams []CameraLoad
		for _, l := range loads {
			if p.locate(l.CameraID) == loc.Name {
				cams = append(cams, l)
			}
		}
		free, total, ferr := p.deps.Free(loc.Root)
		f := Plan(loc, free, total, floor, p.cfg.Margin, cams)
		if ferr != nil {
			f.Error = ferr.Error()
			// Unknown free space is not evidence of a problem; only the kept bytes count.
			f.BelowFloor = false
		}
		out = append(out, f)
	}
	return out, nil
}

// loads gathers every camera that takes space: those recorded now (active, with a measured or
// recent bitrate) and those with recordings kept. Decommissioned cameras keep their recordings
// but add no intake.
func (p *Planner) loads(ctx context.Context) ([]CameraLoad, int, error) {
	pack := p.deps.Registry.Pack()
	if pack == nil {
		return nil, 0, fmt.Errorf("storage forecast: no policy pack")
	}
	floor := pack.RetentionFloorDays()
	cams, err := p.deps.Registry.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{})
	if err != nil {
		return nil, 0, fmt.Errorf("storage forecast: list cameras: %w", err)
	}
	kept, err := p.deps.Index.RecordingSummaries(ctx, time.Time{})
	if err != nil {
		return nil, 0, err
	}
	recent, err := p.deps.Index.RecordingSummaries(ctx, p.deps.Now().Add(-p.cfg.BitrateWindow))
	if err != nil {
		return nil, 0, err
	}
	measured := map[string]int64{}
	if p.deps.Recorder != nil {
		for _, st := range p.deps.Recorder.Statuses() {
			if st.Bitrate > 0 {
				measured[st.CameraID] = st.Bitrate
			}
		}
	}
	estimated := map[string]int64{}
	for _, s := range recent {
		if s.Recorded > 0 {
			estimated[s.CameraID] = int64(float64(s.Bytes) * 8 / s.Recorded.Seconds())
		}
	}
	byID := map[string]*CameraLoad{}
	var order []string
	get := func(id string) *CameraLoad {
		if l, ok := byID[id]; ok {
			return l
		}
		l := &CameraLoad{CameraID: id, RetentionDays: floor}
		byID[id] = l
		order = append(order, id)
		return l
	}
	for _, c := range cams {
		if c.Status == registry.StatusActive {
			l := get(c.ID)
			l.RetentionDays = c.RetentionDays
			if b, ok := measured[c.ID]; ok {
				l.BitrateBps, l.Measured = b, true
			} else {
				l.BitrateBps = estimated[c.ID]
			}
		}
	}
	retention := map[string]int{}
	for _, c := range cams {
		retention[c.ID] = c.RetentionDays
	}
	for _, s := range kept {
		l := get(s.CameraID)
		l.KeptBytes = s.Bytes
		if d, ok := retention[s.CameraID]; ok {
			l.RetentionDays = d
		}
	}
	slices.Sort(order)
	out := make([]CameraLoad, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	return out, floor, nil
}

// retentionRule is the id of the pack's retention rule: the rule retention_below_floor cites.
func retentionRule(pack *policy.Pack) string {
	for _, f := range pack.Findings(policy.CameraFacts{Status: policy.StatusPlanned, RetentionDays: math.MinInt32}, time.Time{}) {
		if f.Code == policy.CodeRetentionBelowFloor {
			return f.Rule
		}
	}
	return ""
}

// Current is the forecast Run computed last, when it is at most two ForecastIntervals old, and
// a fresh one otherwise.
func (p *Planner) Current(ctx context.Context) ([]Forecast, error) {
	p.lastMu.Lock()
	fs, at := p.last, p.lastAt
	p.lastMu.Unlock()
	if fs != nil && p.deps.Now().Sub(at) <= 2*p.cfg.ForecastInterval {
		out := make([]Forecast, len(fs))
		for i, f := range fs {
			f.Cameras = slices.Clone(f.Cameras)
			out[i] = f
		}
		return out, nil
	}
	return p.Forecast(ctx)
}

// Findings are the storage_below_floor findings about cams: one per active camera with an
// intake that records to a location which cannot hold the floor at the current intake. The
// compliance report merges them with the policy's own.
func (p *Planner) Findings(ctx context.Context, cams []*registry.Camera) ([]registry.Finding, error) {
	fs, err := p.Current(ctx)
	if err != nil {
		return nil, err
	}
	out := storageFindings(fs, cams, p.deps.Registry.Pack(), p.locate)
	if st, ok := p.Bucket(); ok {
		out = append(out, bucketFindings(st, cams, p.deps.Registry.Pack(), p.deps.Now())...)
	}
	return out, nil
}

// Bucket reports the uploads to the bucket, when recordings go to one.
func (p *Planner) Bucket() (bucket.Status, bool) {
	if p.deps.Bucket == nil {
		return bucket.Status{}, false
	}
	return p.deps.Bucket.Status(), true
}

// bucketFindings names every active camera once sealed recordings have waited on local disk for
// the bucket longer than BucketWaitLimit, or the bucket refuses them: their footage is not where
// the city keeps it, and local disk holds it only as long as it has room.
func bucketFindings(st bucket.Status, cams []*registry.Camera, pack *policy.Pack, now time.Time) []registry.Finding {
	if st.Waiting == 0 || st.OldestEnd.IsZero() || now.Sub(st.OldestEnd) < BucketWaitLimit {
		return nil
	}
	msg := fmt.Sprintf("%d sealed segment(s), %d bytes, have waited on local disk for bucket %q since %s",
		st.Waiting, st.WaitingBytes, st.Bucket, st.OldestEnd.UTC().Format(time.RFC3339))
	if st.LastError != "" {
		msg += "; last error: " + st.LastError
	}
	var out []registry.Finding
	for _, c := range cams {
		if c.Status != registry.StatusActive {
			continue
		}
		out = append(out, registry.Finding{CameraID: c.ID, CameraName: c.Name, OrganisationID: c.OrganisationID,
			Code: policy.CodeRecordingsWaitingForBucket, Rule: retentionRule(pack), PolicyVersion: pack.Version(), Message: msg})
	}
	return out
}

// ComplianceFindings is Findings for the cameras a compliance report covers, chosen as
// registry.Service.Compliance chooses them (scope, optionally one organisation or one camera).
func (p *Planner) ComplianceFindings(ctx context.Context, scope registry.Scope, organisationID, cameraID string) ([]registry.Finding, error) {
	fs, err := p.Current(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(fs, func(f Forecast) bool { return f.BelowFloor }) {
		// The usual case: no finding, and no reason to list a city's cameras to find none.
		return []registry.Finding{}, nil
	}
	f := registry.CameraFilter{OrganisationID: organisationID}
	if cameraID != "" {
		f.IDs = []string{cameraID}
	}
	cams, err := p.deps.Registry.Cameras(ctx, scope, f)
	if err != nil {
		return nil, err
	}
	return p.Findings(ctx, cams)
}

func storageFindings(fs []Forecast, cams []*registry.Camera, pack *policy.Pack, locate func(string) string) []registry.Finding {
	below := map[string]Forecast{}
	for _, f := range fs {
		if f.BelowFloor {
			below[f.Location] = f
		}
	}
	out := []registry.Finding{}
	if len(below) == 0 {
		return out
	}
	rule := retentionRule(pack)
	for _, c := range cams {
		if c.Status != registry.StatusActive {
			continue
		}
		f, ok := below[locate(c.ID)]
		if !ok {
			continue
		}
		intake := false
		for _, l := range f.Cameras {
			if l.CameraID == c.ID && l.BitrateBps > 0 {
				intake = true
			}
		}
		if !intake {
			continue
		}
		days := "no"
		if f.DaysForecast != nil {
			days = fmt.Sprintf("%.1f", *f.DaysForecast)
		}
		out = append(out, registry.Finding{
			CameraID: c.ID, CameraName: c.Name, OrganisationID: c.OrganisationID,
			Code: policy.CodeStorageBelowFloor, Rule: rule, PolicyVersion: pack.Version(),
			Message: fmt.Sprintf("storage location %q holds %s days at the current intake; the %d-day retention floor needs %d bytes, it has %d",
				f.Location, days, f.FloorDays, f.FloorNeededBytes, f.CapacityBytes),
		})
	}
	return out
}

// CameraStorage is what a camera keeps and how it records, for the API and the CLI.
type CameraStorage struct {
	CameraID        string           `json:"camera_id"`
	Name            string           `json:"name"`
	OrganisationID  string           `json:"organisation_id"`
	Status          string           `json:"status"` // the camera's registry status
	Location        string           `json:"location"`
	RecordingState  string           `json:"recording_state"` // recorder state, or "not_recording"
	RecordingReason string           `json:"recording_reason,omitempty"`
	StorageFull     bool             `json:"storage_full"`
	BitrateBps      int64            `json:"bitrate_bps"`
	RetentionDays   int              `json:"retention_days"` // effective: never below the floor
	Segments        int64            `json:"segments"`
	BytesKept       int64            `json:"bytes_kept"`
	Oldest          time.Time        `json:"oldest,omitzero"`
	Newest          time.Time        `json:"newest,omitzero"`
	DaysKept        float64          `json:"days_kept"`
	Gaps            []timespan.Range `json:"-"`
	GapCount        int              `json:"gap_count"`
	GapSeconds      float64          `json:"gap_seconds"`
}

// Cameras reports what each of cams keeps: bytes, oldest and newest recording, days kept and the
// gaps between its oldest and newest recording, with its recorder's state.
func (p *Planner) Cameras(ctx context.Context, cams []*registry.Camera) ([]CameraStorage, error) {
	pack := p.deps.Registry.Pack()
	floor := 0
	if pack != nil {
		floor = pack.RetentionFloorDays()
	}
	ids := make([]string, len(cams))
	for i, c := range cams {
		ids[i] = c.ID
	}
	sums, err := p.deps.Index.RecordingSummariesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	spans, err := p.deps.Index.RecordingSpansOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	byCam := map[string]RecordingSummary{}
	for _, s := range sums {
		byCam[s.CameraID] = s
	}
	statuses := map[string]recorder.Status{}
	if p.deps.Recorder != nil {
		for _, st := range p.deps.Recorder.Statuses() {
			statuses[st.CameraID] = st
		}
	}
	out := make([]CameraStorage, 0, len(cams))
	for _, c := range cams {
		cs := CameraStorage{CameraID: c.ID, Name: c.Name, OrganisationID: c.OrganisationID, Status: c.Status,
			Location: p.locate(c.ID), RecordingState: "not_recording", RetentionDays: RetentionDays(c.RetentionDays, floor)}
		if st, ok := statuses[c.ID]; ok {
			cs.RecordingState, cs.RecordingReason, cs.BitrateBps = string(st.State), st.Reason, st.Bitrate
			cs.StorageFull = StorageFull(st)
		}
		if s, ok := byCam[c.ID]; ok {
			cs.Segments, cs.BytesKept, cs.Oldest, cs.Newest = s.Segments, s.Bytes, s.Oldest, s.Newest
			cs.DaysKept = s.Newest.Sub(s.Oldest).Hours() / 24
			// The spans are merged already, so covering them with no further gap leaves the same
			// gaps as covering the segments by the index's rule.
			cov := timespan.Cover(spans[c.ID], 0, timespan.Range{Start: s.Oldest, End: s.Newest})
			cs.Gaps = cov.Gaps
			for _, g := range cov.Gaps {
				cs.GapSeconds += g.End.Sub(g.Start).Seconds()
			}
			cs.GapCount = len(cov.Gaps)
		}
		out = append(out, cs)
	}
	return out, nil
}

// setSeconds sets the location's series to days in seconds, or removes it when there is no figure.
func setSeconds(g *prometheus.GaugeVec, location string, days *float64) {
	if days == nil {
		g.DeleteLabelValues(location)
		return
	}
	g.WithLabelValues(location).Set(*days * 24 * 60 * 60)
}
