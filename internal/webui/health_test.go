package webui

import "testing"

// TestReviewerCameraPageSaysWhy checks that a reviewer's camera page explains that recordings
// open inside an application's window, instead of "no right to see this camera's footage" over
// an empty timeline ("no recordings") while the player plays the application's footage; and
// offers no live view, which an application never covers.
func TestReviewerCameraPageSaysWhy(t *testing.T) {
	s := newFootageStack(t)
	r := s.loggedIn("rev1").get("/cameras/" + s.cam + "?lang=en")
	mustContain(t, "reviewer's camera page", r.body, `id="footage-denied"`, `id="play-application"`, "application")
	mustNotContain(t, "reviewer's camera page", r.body, `id="timeline-empty"`, `id="timeline-svg"`, "您无权", "You may not see", `id="live-form"`)
}
