// Package simulator simulates the network provider that takes portings
// through their lifecycle, so that integrators can test every path without a
// real carrier.
//
// Magic phone numbers work like a payment platform's test card numbers:
// porting one of the numbers in [MagicNumbers] always ends the same way (it
// completes, is declined with a given code, or needs information). In
// automatic mode every other pending porting is requested and completed too,
// after a configurable delay.
package simulator
