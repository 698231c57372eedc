package webui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"civicam/internal/fault"
	"civicam/internal/grid"
	"civicam/internal/registry"
)

// The live grid (issue 16): many cameras at once, 1, 4, 9 or 16 tiles, each a live view of its
// own through the API's WHEP endpoint (static/grid.js), all under the one purpose the viewer
// gives for the grid session; the user's saved views; a still per tile. The page is drawn from
// its query (?layout=4&camera=ID&camera=…, or ?view=ID), so it works as a form without script,
// and grid.js changes it in place.

func (u *UI) gridRoutes() []*page {
	if u.grid == nil {
		return nil
	}
	return []*page{
		{Pattern: "GET /live", APIRoute: "GET /api/v1/live/views", Handler: u.liveGrid},
		{Pattern: "POST /live/views", APIRoute: "POST /api/v1/live/views", Handler: u.saveLiveView},
		{Pattern: "POST /live/views/{id}/delete", APIRoute: "DELETE /api/v1/live/views/{id}", Handler: u.deleteLiveView},
	}
}

// maxTiles is the largest layout: every tile is drawn, those beyond the layout hidden, so the
// script changes layouts without a round trip.
const maxTiles = 16

type gridTile struct {
	Index    int // from 0
	Number   int // from 1, for people
	Hidden   bool
	CameraID string
	Name     string
	// Gone is a saved camera the user may no longer watch: the tile says so and stays empty.
	Gone     bool
	Snapshot bool
	Options  []tileOption
}

// tileOption is a camera to choose for a tile; Snapshot tells the script whether its stills
// may be taken.
type tileOption struct {
	option
	Snapshot bool
}

type gridView struct {
	ID, Name string
	Layout   int
	Cameras  int
	Current  bool
	Href     string
}

type gridPageData struct {
	Layout  int
	Layouts []option
	Tiles   []gridTile
	// Cameras are those the user may watch live now; none means the page says so.
	Cameras []grid.Camera
	Views   []gridView
	Current *gridView
	Name    string // the save form's name: the view opened, or what was refused
	Error   string
	Saved   bool
	Deleted bool
	// TileIDs are the tiles' cameras as the save form sends them (the script keeps them true).
	TileIDs []string
}

func (u *UI) liveGrid(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	layout, _ := strconv.Atoi(q.Get("layout"))
	ids := q["camera"]
	var current *grid.View
	if id := q.Get("view"); id != "" {
		v, err := u.grid.View(r.Context(), userOf(r), id)
		if errors.Is(err, fault.ErrNotFound) {
			return errNotFound // another user's view too; wrap traces the attempt
		}
		if err != nil {
			return err
		}
		current, layout, ids = v, v.Layout, v.CameraIDs
	}
	d, err := u.gridPage(r, layout, ids, current)
	if err != nil {
		return err
	}
	d.Saved, d.Deleted = q.Get("done") == "saved", q.Get("done") == "deleted"
	u.render(w, r, http.StatusOK, "livegrid", "grid.title", d)
	return nil
}

// gridPage assembles the page for a layout and the tiles' cameras.
func (u *UI) gridPage(r *http.Request, layout int, ids []string, current *grid.View) (*gridPageData, error) {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	if !slices.Contains(grid.Layouts, layout) {
		layout = 4
	}
	cams, err := u.grid.Cameras(ctx, usr)
	if err != nil {
		return nil, err
	}
	byID := map[string]grid.Camera{}
	for _, c := range cams {
		byID[c.ID] = c
	}
	d := &gridPageData{Layout: layout, Cameras: cams}
	for _, n := range grid.Layouts {
		d.Layouts = append(d.Layouts, option{Value: strconv.Itoa(n), Label: m.T("grid.layout_n", n), Selected: n == layout})
	}
	for i := 0; i < maxTiles; i++ {
		t := gridTile{Index: i, Number: i + 1, Hidden: i >= layout}
		if i < len(ids) && ids[i] != "" {
			if c, ok := byID[ids[i]]; ok {
				t.CameraID, t.Name, t.Snapshot = c.ID, c.Name, c.Snapshot
			} else if registry.ValidID(ids[i]) {
				t.Gone = true
			}
		}
		t.Options = append(t.Options, tileOption{option: option{Value: "", Label: m.T("grid.empty_tile"), Selected: t.CameraID == ""}})
		for _, c := range cams {
			label := c.Name
			if c.Shared {
				label += " · " + m.T("grid.shared")
			}
			t.Options = append(t.Options, tileOption{option: option{Value: c.ID, Label: label, Selected: c.ID == t.CameraID}, Snapshot: c.Snapshot})
		}
		d.Tiles = append(d.Tiles, t)
		if i < layout {
			d.TileIDs = append(d.TileIDs, t.CameraID)
		}
	}
	views, err := u.grid.Views(ctx, usr)
	if err != nil {
		return nil, err
	}
	for _, v := range views {
		n := 0
		for _, id := range v.CameraIDs {
			if id != "" {
				n++
			}
		}
		gv := gridView{ID: v.ID, Name: v.Name, Layout: v.Layout, Cameras: n, Current: current != nil && v.ID == current.ID,
			Href: "/live?view=" + url.QueryEscape(v.ID)}
		if gv.Current {
			d.Current = &gv
			d.Name = v.Name
		}
		d.Views = append(d.Views, gv)
	}
	return d, nil
}

// saveLiveView keeps the grid as the user's view (the same name replaces it) and opens it.
func (u *UI) saveLiveView(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	layout, _ := strconv.Atoi(r.PostFormValue("layout"))
	ids := r.PostForm["camera"]
	name := r.PostFormValue("name")
	v, err := u.grid.Save(r.Context(), userOf(r), grid.Input{Name: name, Layout: layout, CameraIDs: ids})
	if err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Kind == fault.Invalid {
			// The grid's own words for what to fix, in the reader's language.
			key := map[string]string{"name": "grid.err_name", "layout": "grid.err_layout", "camera_ids": "grid.err_cameras"}[fe.Field]
			if key == "" {
				key = "grid.err_cameras"
			}
			d, perr := u.gridPage(r, layout, ids, nil)
			if perr != nil {
				return perr
			}
			d.Name, d.Error = name, m.T(key)
			u.render(w, r, http.StatusBadRequest, "livegrid", "grid.title", d)
			return nil
		}
		return showRefusal(m, err, func(status int, msg string) error {
			d, perr := u.gridPage(r, layout, ids, nil)
			if perr != nil {
				return perr
			}
			d.Name, d.Error = name, msg
			u.render(w, r, status, "livegrid", "grid.title", d)
			return nil
		})
	}
	http.Redirect(w, r, "/live?view="+url.QueryEscape(v.ID)+"&done=saved", http.StatusSeeOther)
	return nil
}

// deleteLiveView deletes one of the user's views; another user's is not found.
func (u *UI) deleteLiveView(w http.ResponseWriter, r *http.Request) error {
	err := u.grid.Delete(r.Context(), userOf(r), r.PathValue("id"))
	if errors.Is(err, fault.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/live?done=deleted", http.StatusSeeOther)
	return nil
}
