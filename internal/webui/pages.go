package webui

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// publicStats are the landing page's figures: counts only, never a camera's id or position.
type publicStats struct {
	at           time.Time
	Total        int
	ByStatus     []count
	ByInvestment []count
	ByCode       []count
}

type count struct {
	Key   string
	N     int
	Label string // filled per language when shown
}

// statistics returns the public figures, recomputed at most once per PublicStatsTTL.
func (u *UI) statistics(ctx context.Context) (*publicStats, error) {
	u.statsMu.Lock()
	defer u.statsMu.Unlock()
	now := u.now()
	if u.stats != nil && now.Sub(u.stats.at) < u.cfg.PublicStatsTTL && !now.Before(u.stats.at) {
		return u.stats, nil
	}
	cams, err := u.reg.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{})
	if err != nil {
		return nil, err
	}
	pack := u.reg.Pack()
	status := map[string]int{registry.StatusPlanned: 0, registry.StatusActive: 0, registry.StatusDecommissioned: 0}
	invest := map[string]int{registry.InvestmentGovernment: 0, registry.InvestmentPrivate: 0}
	codes := map[string]int{}
	for _, c := range cams {
		status[c.Status]++
		invest[c.Investment]++
		for _, f := range pack.Findings(registry.Facts(c), now) {
			codes[f.Code]++
		}
	}
	u.stats = &publicStats{at: now, Total: len(cams),
		ByStatus:     ordered(status, []string{registry.StatusPlanned, registry.StatusActive, registry.StatusDecommissioned}),
		ByInvestment: ordered(invest, []string{registry.InvestmentGovernment, registry.InvestmentPrivate}),
		ByCode:       byCount(codes),
	}
	return u.stats, nil
}

// ordered lists counts in a fixed order, then any other keys by name.
func ordered(m map[string]int, order []string) []count {
	var out []count
	for _, k := range order {
		out = append(out, count{Key: k, N: m[k]})
	}
	var rest []string
	for k := range m {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, count{Key: k, N: m[k]})
	}
	return out
}

// byCount lists counts largest first, ties by key.
func byCount(m map[string]int) []count {
	out := make([]count, 0, len(m))
	for k, n := range m {
		out = append(out, count{Key: k, N: n})
	}
	slices.SortFunc(out, func(a, b count) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Key, b.Key))
	})
	return out
}

func labelled(cs []count, m Messages, prefix string) []count {
	out := slices.Clone(cs)
	for i := range out {
		out[i].Label = m.Label(prefix, out[i].Key)
	}
	return out
}

type landingData struct {
	PolicyVersion  string
	Regulation     string
	Jurisdiction   string
	InForce        string
	RetentionFloor int
	Maintenance    int
	SignsRequired  bool
	Prohibited     []string
	Total          int
	StatusChart    chart
	InvestChart    chart
	CodeChart      chart
	Checkpoint     string
	VerifierKey    string
	CheckpointURL  string
	CheckpointErr  bool
}

// landing is the public page: what the platform is, the rules in force, the public figures and
// the newest signed checkpoint of the trail.
func (u *UI) landing(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	pack := u.reg.Pack()
	reg := pack.Regulation()
	d := landingData{PolicyVersion: pack.Version(), Regulation: reg.Name, Jurisdiction: reg.Jurisdiction,
		RetentionFloor: pack.RetentionFloorDays(), Maintenance: pack.MaintenanceIntervalDays(), SignsRequired: pack.SignsRequired(),
		VerifierKey: u.trail.VerifierKey(), CheckpointURL: siteURL(r) + "/api/v1/trace/checkpoint"}
	if m.Lang == "zh" && reg.NameZH != "" {
		d.Regulation = reg.NameZH
	}
	if !reg.InForce.IsZero() {
		d.InForce = reg.InForce.Format("2006-01-02")
	}
	for _, c := range pack.Categories() {
		if c.Kind == policy.KindProhibited {
			d.Prohibited = append(d.Prohibited, categoryLabel(c, m))
		}
	}
	st, err := u.statistics(r.Context())
	if err != nil {
		return err
	}
	d.Total = st.Total
	d.StatusChart = barChart(labelled(st.ByStatus, m, "status"))
	d.InvestChart = barChart(labelled(st.ByInvestment, m, "investment"))
	d.CodeChart = barChart(labelled(st.ByCode, m, "code"))
	if cp, err := u.trail.Latest(r.Context()); err != nil {
		u.log.Error("latest checkpoint", "err", err)
		d.CheckpointErr = true
	} else {
		d.Checkpoint = string(cp)
	}
	u.render(w, r, http.StatusOK, "landing", "landing.title", d)
	return nil
}

func categoryLabel(c policy.Category, m Messages) string {
	if m.Lang == "zh" && c.LabelZH != "" {
		return c.LabelZH
	}
	if c.Label != "" {
		return c.Label
	}
	return c.ID
}

// siteURL is the scheme and host the visitor reached, for commands it can copy.
func siteURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type loginData struct {
	Username string
	Next     string
	Error    string
	// Registered is a citizen just verified, sent here to log in; Register says citizens may
	// register themselves (the lost-person applications are on), so the page does not tell them
	// to ask an administrator.
	Registered, Register bool
}

func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) error {
	u.render(w, r, http.StatusOK, "login", "login.title", loginData{Next: localPath(r.URL.Query().Get("next"), ""),
		Registered: r.URL.Query().Get("registered") == "1", Register: u.req != nil})
	return nil
}

// loginSubmit opens a session through the accounts service, the one login path (throttle,
// timing, trail), and hands its token to the browser as an HttpOnly cookie, with a fresh CSRF
// token.
func (u *UI) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"), "")
	res, err := u.accounts.Login(r.Context(), username, password, clientAddr(r))
	if err != nil {
		status, key := http.StatusInternalServerError, "error.internal"
		fe, _ := fault.As(err)
		switch {
		case errors.Is(err, trace.ErrUnavailable):
			status, key = http.StatusServiceUnavailable, "error.trail"
		case errors.Is(err, auth.ErrBusy):
			status, key = http.StatusServiceUnavailable, "error.busy"
		case fe != nil && fe.Kind == fault.Throttled:
			status, key = http.StatusTooManyRequests, "login.throttled"
		case errors.Is(err, accounts.ErrBadCredentials):
			status, key = http.StatusUnauthorized, "login.bad_credentials"
		case fe != nil && fe.Kind == fault.Invalid:
			status, key = http.StatusBadRequest, "login.missing"
		default:
			u.log.Error("login failed", "err", err)
		}
		u.render(w, r, status, "login", "login.title", loginData{Username: username, Next: next, Error: m.T(key), Register: u.req != nil})
		return nil
	}
	secure := u.secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: res.Token, Path: "/", Expires: res.ExpiresAt,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	// A new token at login: one planted before it (login CSRF, fixation) is worth nothing after.
	http.SetCookie(w, auth.NewCSRFCookie(auth.NewCSRFToken(), secure))
	if next == "" {
		next = "/me"
		if u.allowed(res.User, "GET /api/v1/cameras") {
			next = "/cameras"
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// logout ends the session (traced by the accounts service) and clears the cookies.
func (u *UI) logout(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(auth.SessionCookie)
	if err == nil && c.Value != "" {
		if err := u.accounts.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	secure := u.secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: auth.CSRFCookie, Value: "", Path: "/", MaxAge: -1, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

type meData struct {
	Organisation string
	Applicant    bool
}

// me shows who is logged in; it is where users without registry pages land.
func (u *UI) me(w http.ResponseWriter, r *http.Request) error {
	usr := userOf(r)
	d := meData{Applicant: usr.Role == auth.RoleApplicant}
	if usr.OrganisationID != "" {
		if o, err := u.reg.Organisation(r.Context(), usr.OrganisationID); err == nil {
			d.Organisation = o.Name
		}
	}
	u.render(w, r, http.StatusOK, "me", "me.title", d)
	return nil
}
