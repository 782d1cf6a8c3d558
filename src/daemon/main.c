/* tempusd entry point. */
#include <stdio.h>

int main(int argc, char *argv[]) {
        fprintf(stderr, "tempusd: not yet\n");
        return 1;
}
