package coverage

import (
	"slices"
	"testing"

	"civicam/internal/spatial"
)

func TestReaching(t *testing.T) {
	const lat, lon = 27.83, 113.15
	m := 1 / (deg * spatial.EarthRadiusM) // degrees of latitude per metre
	x := NewIndex(spatial.New())
	for id, v := range map[string]View{
		"east":  {lat, lon, 90, 60, 100}, // looks east from the centre
		"north": {lat, lon, 0, 30, 40},   // looks north, 40 m
		"blind": {lat, lon, 90, 0, 100},  // no angle: sees nothing
		"far":   {lat + 0.01, lon, 180, 60, 100},
	} {
		if err := x.Set(id, v); err != nil {
			t.Fatal(err)
		}
	}
	lonM := m / 0.8846 // cos(27.83°)
	square := func(cx, cy, half float64) [][2]float64 {
		return [][2]float64{{lon + (cx-half)*lonM, lat + (cy-half)*m}, {lon + (cx+half)*lonM, lat + (cy-half)*m},
			{lon + (cx+half)*lonM, lat + (cy+half)*m}, {lon + (cx-half)*lonM, lat + (cy+half)*m}, {lon + (cx-half)*lonM, lat + (cy-half)*m}}
	}
	tests := []struct {
		name string
		a    Area
		want []string
	}{
		{"point in the east fan", Area{Lat: lat, Lon: lon + 50*lonM}, []string{"east"}},
		{"point west, unseen", Area{Lat: lat, Lon: lon - 50*lonM}, nil},
		{"point north", Area{Lat: lat + 30*m, Lon: lon}, []string{"north"}},
		// A square 150–170 m east, 40 m wide: beyond the 100 m range.
		{"square out of range", Area{Lat: lat, Lon: lon + 160*lonM, Ring: square(160, 0, 20)}, nil},
		// A square whose west edge is 90 m east, no vertex in the fan: only its edge meets the arc.
		{"square cut by the arc", Area{Lat: lat, Lon: lon + 110*lonM, Ring: square(110, 0, 20)}, []string{"east"}},
		// A big square round the pole: every camera's apex inside.
		{"square round the pole", Area{Lat: lat, Lon: lon, Ring: square(0, 0, 10)}, []string{"east", "north"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := x.Reaching(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Reaching(%+v) = %v; want %v", tt.a, got, tt.want)
			}
		})
	}
}
