import 'reflect-metadata';
import { runCommand } from './cli';

/** Loads the demo data into an empty, migrated database and prints one token per role. */
void runCommand('db:seed', {});
