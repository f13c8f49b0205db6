/**
 * /console: the single-page admin console. It is a client of the admin API and holds no
 * secret itself; the page asks for a token and keeps it in session storage.
 */
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { CONSOLE_HEADERS, loadConsoleAssets, type ConsoleAsset } from './console-assets';

@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private readonly assets = loadConsoleAssets();

  private send(res: Response, asset: ConsoleAsset | undefined): void {
    if (!asset) throw new NotFoundException('no such console file');
    for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value);
    res.status(200).type(asset.type).send(asset.body);
  }

  @Get()
  index(@Res() res: Response): void {
    this.send(res, this.assets.get('index.html'));
  }

  @Get(':file')
  file(@Param('file') file: string, @Res() res: Response): void {
    this.send(res, this.assets.get(file));
  }
}
