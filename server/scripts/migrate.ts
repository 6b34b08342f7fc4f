import 'reflect-metadata';
import { runCommand } from './cli';

void runCommand('db:migrate', {});
