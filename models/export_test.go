package models

// DummyHash is the hash a sign-in with an unknown email is checked
// against.
func (s *Store) DummyHash() []byte { return s.dummyHash }
