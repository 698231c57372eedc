package live

import "civicam/internal/recorder"

// sendAudio sends one audio frame to the viewer, when the session carries the camera's audio.
func (ss *Session) sendAudio(fr recorder.Frame) {}
