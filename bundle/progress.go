package bundle

// Progress receives the byte counts of a long operation. Implementations must
// be safe for concurrent use; the workflows call Start once, then Add from any
// goroutine, then Finish.
type Progress interface {
	Start(label string, total int64)
	Add(n int64)
	Finish()
}

type noProgress struct{}

func (noProgress) Start(string, int64) {}
func (noProgress) Add(int64)           {}
func (noProgress) Finish()             {}

func progressOrNop(p Progress) Progress {
	if p == nil {
		return noProgress{}
	}
	return p
}
