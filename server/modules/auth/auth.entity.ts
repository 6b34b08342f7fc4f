import { Community } from '../community/community.entity';
import { Check, Column, CreateDateColumn, Entity, ForeignKey, PrimaryGeneratedColumn } from 'typeorm';

/** Which client a token is for; the audit log's source comes from it, never from a request header. */
export enum TokenClient {
  API = 'api',
  ADDIN = 'addin',
}

/** An API token. Only a SHA-256 hash of the secret is kept; the secret is shown once, at creation. */
@Entity()
@Check(`"client" IN ('api', 'addin')`)
export class ApiToken {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Column({ type: 'varchar', length: 12 })
  role: string;

  @Column({ type: 'varchar', length: 16, nullable: true })
  @ForeignKey(() => Community, { onDelete: 'RESTRICT' })
  communityCode: string | null;

  @Column({ type: 'char', length: 64, unique: true })
  tokenHash: string;

  /** First characters of the token, so a person can tell tokens apart in listings. */
  @Column({ type: 'varchar', length: 12 })
  prefix: string;

  /** `addin`: the Excel add-in's token, whose writes are audited as ADDIN; `api`: anything else (API). */
  @Column({ type: 'varchar', length: 8, default: TokenClient.API })
  client: TokenClient;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
