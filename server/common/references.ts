import { JoinColumn, ManyToOne, ObjectType as OrmTarget } from 'typeorm';

/**
 * Declares a foreign-key constraint on a plain column without an ORM relation to load: the hub reads
 * relations through DataLoaders, but the database stays the last line of validation (23503).
 * Apply it to a never-read property next to the real column.
 */
export function References<T>(target: () => OrmTarget<T>, column: string, referencedColumn?: string): PropertyDecorator {
  return (proto, key) => {
    ManyToOne(target, { onDelete: 'RESTRICT', nullable: true, createForeignKeyConstraints: true })(proto, key);
    JoinColumn({ name: column, referencedColumnName: referencedColumn })(proto, key);
  };
}
