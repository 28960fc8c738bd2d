package layer

// sparseHoles: a block skipped on Windows, in a file without the sparse
// attribute, is written as zeros anyway; write every block.
const sparseHoles = false
