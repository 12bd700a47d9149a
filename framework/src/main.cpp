#include "mxbridge/app.h"

int main(int argc, char** argv) { return mxbridge::runMain(argc, argv); }
